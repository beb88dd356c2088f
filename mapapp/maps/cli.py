"""Placeholder: export (to be built)."""
import click

from mapapp.cli import data_option


@click.command("export")
@data_option
def export_command(data):
    """Placeholder."""
    raise click.ClickException("not built yet")
