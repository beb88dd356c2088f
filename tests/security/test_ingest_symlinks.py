"""Issue 7, fault 5: `mapapp ingest` must not follow symbolic links out of what it was given, nor read "" as ".".

`ln -s /etc/passwd x.txt; mapapp ingest x.txt` used to put /etc/passwd on the public map, and so did such a
link inside an ingested folder.
"""
from __future__ import annotations

import os

import pytest

from mapapp.db import DATABASE_NAME, connect

SECRET = "root:x:0:0 secret line from Baku"


def stored(data_dir) -> dict[str, str]:
    """{key: text} of every stored article."""
    conn = connect(data_dir / DATABASE_NAME)
    try:
        return dict(conn.execute("SELECT key, text FROM articles").fetchall())
    finally:
        conn.close()


@pytest.fixture
def outside(tmp_path):
    """A private file and a folder of articles, both outside the folder that will be ingested."""
    secret = tmp_path / "private" / "passwd"
    secret.parent.mkdir()
    secret.write_text(SECRET, encoding="utf-8")
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "far.txt").write_text("Far away in Yerevan.", encoding="utf-8")
    return {"secret": secret, "folder": other}


def test_a_symlink_given_directly_is_refused(runner, data_dir, tmp_path, outside):
    link = tmp_path / "x.txt"
    link.symlink_to(outside["secret"])
    good = tmp_path / "good.txt"
    good.write_text("Talks in Baku.", encoding="utf-8")
    result = runner.invoke(["ingest", str(link), str(good)])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and str(link) in errors[0] and "symbolic link" in errors[0]
    assert "Traceback" not in result.output
    assert set(stored(data_dir)) == {"good.txt"}  # the rest went on
    assert SECRET not in "".join(stored(data_dir).values())


def test_follow_symlinks_reads_a_link_given_directly(runner, data_dir, tmp_path, outside):
    link = tmp_path / "x.txt"
    link.symlink_to(outside["folder"] / "far.txt")
    result = runner.invoke(["ingest", "--follow-symlinks", str(link)])
    assert result.exit_code == 0, result.output
    assert stored(data_dir) == {"x.txt": "Far away in Yerevan."}


def test_a_symlinked_folder_given_directly_is_refused(runner, data_dir, tmp_path, outside):
    link = tmp_path / "articles"
    link.symlink_to(outside["folder"], target_is_directory=True)
    result = runner.invoke(["ingest", str(link)])
    assert result.exit_code == 1 and "symbolic link" in result.stderr and str(link) in result.stderr
    assert stored(data_dir) == {}


def test_links_leading_out_of_a_folder_are_refused_one_line_each(runner, data_dir, tmp_path, outside):
    folder = tmp_path / "articles"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("Talks in Baku.", encoding="utf-8")
    (folder / "sub" / "b.md").write_text("# News\n\nTroops in Yerevan.", encoding="utf-8")
    (folder / "x.txt").symlink_to(outside["secret"])
    (folder / "sub" / "y.txt").symlink_to(outside["secret"])
    (folder / "away").symlink_to(outside["folder"], target_is_directory=True)
    (folder / "dot").symlink_to(os.path.relpath(tmp_path, folder), target_is_directory=True)  # up and out
    (folder / "loop").symlink_to(".", target_is_directory=True)  # stays inside: no error, no endless walk
    (folder / "same.txt").symlink_to("a.txt")  # stays inside: a.txt is read once
    (folder / "gone.txt").symlink_to(tmp_path / "missing.txt")
    result = runner.invoke(["ingest", str(folder)])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    refused = {folder / "x.txt", folder / "sub" / "y.txt", folder / "away", folder / "dot", folder / "gone.txt"}
    assert len(errors) == len(refused), errors
    for path in refused:
        assert sum(line.startswith(f"error: {path}:") for line in errors) == 1, (path, errors)
    assert "5 files could not be ingested" in result.stderr
    articles = stored(data_dir)
    assert set(articles) == {"a.txt", "b.md"}
    assert SECRET not in "".join(articles.values()) and "Far away" not in "".join(articles.values())


def test_follow_symlinks_reads_links_out_of_a_folder_once_each(runner, data_dir, tmp_path, outside):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text("Talks in Baku.", encoding="utf-8")
    (folder / "away").symlink_to(outside["folder"], target_is_directory=True)
    (folder / "again").symlink_to(outside["folder"], target_is_directory=True)
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    result = runner.invoke(["ingest", "--follow-symlinks", str(folder)])
    assert result.exit_code == 0, result.output
    assert stored(data_dir) == {"a.txt": "Talks in Baku.", "far.txt": "Far away in Yerevan."}


def test_an_empty_path_is_an_error_not_the_current_folder(runner, data_dir, tmp_path, monkeypatch):
    (tmp_path / "here.txt").write_text("Talks in Baku.", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(["ingest", ""])
    assert result.exit_code != 0
    [line] = result.stderr.strip().splitlines()
    assert "empty path" in line and "Traceback" not in line
    result = runner.invoke(["ingest", str(tmp_path / "here.txt"), ""])
    assert result.exit_code != 0 and "empty path" in result.stderr
    assert stored(data_dir) == {}
