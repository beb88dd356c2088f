"""Admin accounts: users with scrypt password hashes, and the `mapapp admin` commands that manage them."""
from __future__ import annotations

import functools
import os
import sqlite3
import unicodedata

import click
from werkzeug.security import check_password_hash, generate_password_hash

from mapapp.cli_options import data_option
from mapapp.db import location, opened, transaction
from mapapp.errors import Conflict, InvalidInput
from mapapp.gazetteer.records import utc_now

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
MAX_USERNAME_LENGTH = 64


@functools.cache
def _dummy_hash() -> str:
    # Checked when the user does not exist, so that both kinds of failure cost one scrypt run.
    return generate_password_hash("not the password of anyone")


def clean_username(name: str) -> str:
    """NFC, stripped; 1..64 printable characters with no spaces, or InvalidInput."""
    name = unicodedata.normalize("NFC", (name or "").strip())
    if not name:
        raise InvalidInput("username is required", field="username")
    if len(name) > MAX_USERNAME_LENGTH:
        raise InvalidInput(f"username is longer than {MAX_USERNAME_LENGTH} characters", field="username")
    if any(ch.isspace() or not ch.isprintable() for ch in name):
        raise InvalidInput("username may not contain spaces or control characters", field="username")
    return name


def check_password(password: str) -> str:
    """The password if it is long enough (and not absurdly long), else InvalidInput."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters", field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput("password is too long", field="password")
    return password


def create_user(conn: sqlite3.Connection, username: str, password: str) -> int:
    """Store a new user with a scrypt hash of `password`; Conflict if the name is taken. Returns the id."""
    username = clean_username(username)
    hashed = generate_password_hash(check_password(password))
    with transaction(conn):
        if conn.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
            raise Conflict(f"user {username!r} already exists", field="username")
        return conn.execute("INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?) RETURNING id",
                            (username, hashed, utc_now())).fetchone()[0]


def set_password(conn: sqlite3.Connection, username: str, password: str) -> None:
    """Replace a user's password hash and end all of that user's sessions."""
    hashed = generate_password_hash(check_password(password))
    with transaction(conn):
        row = conn.execute("SELECT id FROM users WHERE username = ?", (clean_username(username),)).fetchone()
        if row is None:
            raise InvalidInput(f"no user {username!r}", field="username")
        conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (hashed, row["id"]))
        conn.execute("DELETE FROM user_sessions WHERE user_id = ?", (row["id"],))


def authenticate(conn: sqlite3.Connection, username: str, password: str) -> sqlite3.Row | None:
    """The user row if the name and password match, else None (same cost whether or not the user exists)."""
    try:
        username = clean_username(username)
    except InvalidInput:
        username = ""
    row = conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone() if username else None
    ok = check_password_hash(row["password_hash"] if row else _dummy_hash(), password or "")
    return row if (row is not None and ok) else None


def user_count(conn: sqlite3.Connection) -> int:
    """How many accounts exist (0 on a fresh install)."""
    return conn.execute("SELECT count(*) FROM users").fetchone()[0]


def _read_password(username: str) -> str:
    # Automation sets MAPAPP_PASSWORD; people get a hidden prompt typed twice.
    from_env = os.environ.get("MAPAPP_PASSWORD")
    if from_env is not None:
        return from_env
    return click.prompt(f"Password for {username}", hide_input=True, confirmation_prompt=True)


@click.group("admin")
def admin_group() -> None:
    """Manage the accounts that may edit the gazetteer on /admin."""


@admin_group.command("create-user")
@click.argument("name")
@data_option
def create_user_command(name: str, data) -> None:
    """Create account NAME; the password is prompted for (or read from $MAPAPP_PASSWORD)."""
    name = clean_username(name)
    password = check_password(_read_password(name))
    with opened(location(data)) as conn:
        create_user(conn, name, password)
    click.echo(f"Created user {name}. Log in at /auth/login.")


@admin_group.command("set-password")
@click.argument("name")
@data_option
def set_password_command(name: str, data) -> None:
    """Change the password of account NAME (prompted, or $MAPAPP_PASSWORD) and log it out everywhere."""
    password = check_password(_read_password(name))
    with opened(location(data)) as conn:
        set_password(conn, name, password)
    click.echo(f"Password of {name} changed.")


@admin_group.command("list-users")
@data_option
def list_users_command(data) -> None:
    """List the accounts and when they were created."""
    with opened(location(data)) as conn:
        rows = conn.execute("SELECT username, created_at FROM users ORDER BY username").fetchall()
    if not rows:
        click.echo("No accounts yet: run `mapapp admin create-user NAME`.")
    for row in rows:
        click.echo(f"{row['username']}\t{row['created_at']}")
