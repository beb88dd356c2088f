"""An article's home region (`near`): the place a local paper writes from, a strong prior for its bare names.

Where it comes from, most specific first: the article's front matter (`near: Lamar County, Texas`), the
ingest's `--near`, then the data folder's `sources.toml`, which maps a source (publisher) to its region:

    ["The Paris News"]
    near = "Lamar County, Texas"

A name is resolved through the gazetteer like a geocoder query ("Paris, Texas", "Lamar County, Texas"), or
given as a place id (`adm2:US.TX.lamar-county`); a name the gazetteer does not know is an InvalidInput.
"""
from __future__ import annotations

import sys
from pathlib import Path

from mapapp.articles.metadata import detect_metadata
from mapapp.errors import InvalidInput, MalformedFile, NotFound

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SOURCES_FILE = "sources.toml"


def resolve_near(gazetteer, name: str, *, where: str = "near"):
    """The Place that `name` (a place name, "Name, Region", or a place id) denotes; InvalidInput if none."""
    query = " ".join(str(name).split())
    if not query:
        raise InvalidInput(f"{where}: an empty place name", field="near")
    if ":" in query and "," not in query:
        try:
            return gazetteer.get(query)
        except NotFound:
            pass
    location = gazetteer.geocode(query)
    if location is None:
        raise InvalidInput(f"{where}: no place named {query[:80]!r} in the gazetteer", field="near")
    return gazetteer.get(location.raw["id"])


def load_sources(data_dir) -> dict[str, str]:
    """{source name: near name} from DATA_DIR/sources.toml ({} when there is no such file)."""
    path = Path(data_dir) / SOURCES_FILE
    if not path.is_file():
        return {}
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise MalformedFile(f"not valid TOML: {error}", path=str(path)) from None
    sources = {}
    for source, settings in table.items():
        near = settings.get("near") if isinstance(settings, dict) else None
        if not isinstance(near, str) or not near.strip():
            raise MalformedFile(f"source {source[:60]!r} needs a `near = \"Place name\"` string", path=str(path))
        sources[source.strip().casefold()] = near
    return sources


class HomeRegions:
    """Chooses and resolves each article's home region (front matter, then `default`, then `sources`)."""

    def __init__(self, gazetteer, *, default: str | None = None, sources: dict[str, str] | None = None):
        self.gazetteer = gazetteer
        # Resolved up front: an unknown --near or sources.toml entry stops the run before anything is read.
        self.default = resolve_near(gazetteer, default, where="--near") if default is not None else None
        self.sources = {source: resolve_near(gazetteer, near, where=f"{SOURCES_FILE} [{source}]")
                        for source, near in (sources or {}).items()}

    def for_document(self, document, *, source: str | None = None):
        """The Place `document` is near, or None; `source` (default: as ingest finds it) picks the sources.toml entry.

        A front-matter `near:` the gazetteer does not know is a MalformedFile naming the file.
        """
        if document.near:
            try:
                return resolve_near(self.gazetteer, document.near, where="front matter near")
            except InvalidInput as error:
                raise MalformedFile(error.message, path=str(document.path), field="near") from None
        if self.default is not None:
            return self.default
        if not self.sources:
            return None
        if source is None:
            # As ingest stores it: the declared source, else the one the text's byline or dateline names.
            source = document.source or detect_metadata(document.text)["source"]
        return self.sources.get((source or "").strip().casefold())
