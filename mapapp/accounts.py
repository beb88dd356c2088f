"""Placeholder: admin accounts (to be built)."""
import click

from mapapp.cli import data_option


@click.command("admin")
@data_option
def admin_group(data):
    """Placeholder."""
    raise click.ClickException("not built yet")
