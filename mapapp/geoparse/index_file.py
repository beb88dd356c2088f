"""The recogniser's name index as files beside the gazetteer: two MARISA tries that open in milliseconds.

SQLite stays the source of truth. `mapapp gazetteer build` writes the index; a process that finds none for
the gazetteer's current version (after an admin edit bumped it) builds it from SQLite once and writes it,
so that the next processes open it at once. The tries are memory-mapped, so worker processes share one
copy of them. A folder per version (`mapapp.sqlite3.names/<stamp>/`) is renamed into place whole: a reader
never sees half an index, and two writers at once cost only the work.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

#: Bump when the files' layout or the meaning of their entries changes.
FORMAT = "1"
_KEYS, _FIRST = "keys.marisa", "first.marisa"


class TokenCounts:
    """first token -> most tokens of a key starting with it, read from a memory-mapped RecordTrie (a dict's `get`)."""

    def __init__(self, trie):
        self._trie = trie

    def get(self, token: str, default=None):
        """The count for `token`, or `default` when no key starts with it."""
        found = self._trie.get(token)
        return found[0][0] if found else default

    def __contains__(self, token: str) -> bool:
        return token in self._trie

    def items(self):
        """Every (first token, count)."""
        return ((token, value[0]) for token, value in self._trie.items())


def index_folder(db_path) -> Path:
    """The folder that holds every version of the name index of the gazetteer at `db_path` (beside the file; for
    a PostgreSQL gazetteer, in this machine's temporary folder, named by a hash of its URL)."""
    from mapapp.db import is_url

    if is_url(db_path):
        import hashlib
        import tempfile

        return Path(tempfile.gettempdir()) / f"mapapp-{hashlib.sha256(db_path.encode()).hexdigest()[:16]}.names"
    return Path(f"{os.fspath(db_path)}.names")


def open_index(db_path, version_stamp: str):
    """(keys trie, TokenCounts) of the index for `version_stamp`, memory-mapped; None when there is none."""
    import marisa_trie

    folder = index_folder(db_path) / f"{FORMAT}-{version_stamp}"
    try:
        keys = marisa_trie.Trie().mmap(os.fspath(folder / _KEYS))
        first = marisa_trie.RecordTrie("<B").mmap(os.fspath(folder / _FIRST))
    except (OSError, ValueError, RuntimeError):
        return None
    return keys, TokenCounts(first)


def write_index(db_path, version_stamp: str, keys, longest) -> bool:
    """Write the index of `keys` (with `longest`, first token -> count) for `version_stamp`; False if the folder
    is not writable (the caller keeps its in-memory index). Older versions are removed."""
    import marisa_trie

    parent = index_folder(db_path)
    final = parent / f"{FORMAT}-{version_stamp}"
    try:
        parent.mkdir(exist_ok=True)
        if final.is_dir():
            return True
        work = Path(tempfile.mkdtemp(prefix=".tmp-", dir=parent))
        try:
            os.chmod(work, 0o755)  # readable by whoever can read the gazetteer (mkdtemp makes it private)
            marisa_trie.Trie(keys).save(os.fspath(work / _KEYS))
            marisa_trie.RecordTrie("<B", ((token, (count,)) for token, count in longest.items())).save(
                os.fspath(work / _FIRST))
            os.rename(work, final)
        except OSError:
            shutil.rmtree(work, ignore_errors=True)
            if not final.is_dir():
                raise
        for old in parent.iterdir():
            if old != final and not old.name.startswith(".tmp-"):
                shutil.rmtree(old, ignore_errors=True)
    except OSError:
        return False
    return True


def refresh_index(gazetteer):
    """The NameIndex of `gazetteer` built from SQLite (seconds), written as the index file for its version."""
    from mapapp.geoparse.recognize import NameIndex

    index = NameIndex(gazetteer.keys())
    write_index(gazetteer.path, gazetteer.index_stamp(), index.keys, index.longest)
    return index


def write_for_database(db_path) -> None:
    """Write the name index of the gazetteer at `db_path` (the last step of `mapapp gazetteer build`)."""
    from mapapp.gazetteer.store import Gazetteer

    gazetteer = Gazetteer(db_path)
    try:
        refresh_index(gazetteer)
    finally:
        gazetteer.close()
