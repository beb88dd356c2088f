"""Accounts: `mapapp admin create-user`, scrypt hashes, authentication."""
from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from mapapp import accounts
from mapapp.cli import main
from mapapp.db import DATABASE_NAME, connect
from mapapp.errors import Conflict, InvalidInput


def run(args, *, env=None, input=None):
    return CliRunner().invoke(main, args, env=env or {}, input=input)


def users(folder):
    conn = sqlite3.connect(folder / DATABASE_NAME)
    try:
        return conn.execute("SELECT username, password_hash FROM users ORDER BY username").fetchall()
    finally:
        conn.close()


def test_create_user_from_environment_stores_a_scrypt_hash(tmp_path):
    result = run(["admin", "create-user", "alice", "--data", str(tmp_path)],
                 env={"MAPAPP_PASSWORD": "a long secret phrase"})
    assert result.exit_code == 0, result.output
    [(name, hashed)] = users(tmp_path)
    assert name == "alice"
    assert hashed.startswith("scrypt:") and "a long secret phrase" not in hashed
    conn = connect(tmp_path / DATABASE_NAME)
    assert accounts.authenticate(conn, "alice", "a long secret phrase")["username"] == "alice"
    assert accounts.authenticate(conn, "alice", "wrong password!!") is None
    assert accounts.authenticate(conn, "nobody", "a long secret phrase") is None


def test_create_user_prompts_twice(tmp_path):
    result = run(["admin", "create-user", "bob", "--data", str(tmp_path)],
                 input="a long secret phrase\na long secret phrase\n")
    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output
    assert [u[0] for u in users(tmp_path)] == ["bob"]


def test_mismatched_confirmation_is_asked_again(tmp_path):
    result = run(["admin", "create-user", "bob", "--data", str(tmp_path)],
                 input="a long secret phrase\nanother phrase!!\na long secret phrase\na long secret phrase\n")
    assert result.exit_code == 0 and "do not match" in result.output.lower()
    conn = connect(tmp_path / DATABASE_NAME)
    assert accounts.authenticate(conn, "bob", "a long secret phrase") is not None


@pytest.mark.parametrize("name, password, message", [
    ("alice", "short", "at least 10 characters"),
    ("al ice", "a long secret phrase", "spaces or control"),
    ("x" * 65, "a long secret phrase", "longer than 64"),
])
def test_bad_accounts_are_refused_with_one_line(tmp_path, name, password, message):
    result = run(["admin", "create-user", name, "--data", str(tmp_path)], env={"MAPAPP_PASSWORD": password})
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / DATABASE_NAME).exists() or users(tmp_path) == []


def test_duplicate_user_is_refused(tmp_path):
    env = {"MAPAPP_PASSWORD": "a long secret phrase"}
    assert run(["admin", "create-user", "alice", "--data", str(tmp_path)], env=env).exit_code == 0
    before = users(tmp_path)
    result = run(["admin", "create-user", "alice", "--data", str(tmp_path)], env=env)
    assert result.exit_code == 1 and "already exists" in result.output
    assert users(tmp_path) == before


def test_set_password_replaces_the_hash_and_ends_sessions(tmp_path):
    conn = connect(tmp_path / DATABASE_NAME)
    user_id = accounts.create_user(conn, "alice", "first password!")
    conn.execute("INSERT INTO user_sessions (sid, user_id, created_at) VALUES ('s', ?, 0)", (user_id,))
    result = run(["admin", "set-password", "alice", "--data", str(tmp_path)],
                 env={"MAPAPP_PASSWORD": "second password!"})
    assert result.exit_code == 0, result.output
    assert accounts.authenticate(conn, "alice", "second password!") is not None
    assert accounts.authenticate(conn, "alice", "first password!") is None
    assert conn.execute("SELECT count(*) FROM user_sessions").fetchone()[0] == 0


def test_list_users_and_help(tmp_path):
    assert "create-user" in run(["admin", "--help"]).output
    assert "No accounts yet" in run(["admin", "list-users", "--data", str(tmp_path)]).output
    conn = connect(tmp_path / DATABASE_NAME)
    accounts.create_user(conn, "alice", "a long secret phrase")
    assert "alice" in run(["admin", "list-users", "--data", str(tmp_path)]).output


def test_create_user_api_errors(tmp_path):
    conn = connect(tmp_path / DATABASE_NAME)
    accounts.create_user(conn, "alice", "a long secret phrase")
    with pytest.raises(Conflict):
        accounts.create_user(conn, "alice", "a long secret phrase")
    with pytest.raises(InvalidInput):
        accounts.create_user(conn, "", "a long secret phrase")
    assert accounts.user_count(conn) == 1
