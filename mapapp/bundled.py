"""Where the app's bundled files are: the browser code, the curated gazetteer files and the seed articles.

The checkout keeps them in the top-level folders static/, gazetteer/ and seeds/; a built wheel carries the
same folders inside the package as mapapp/static, mapapp/gazetteer_data and mapapp/seeds (pyproject.toml
maps them). Everything that reads them asks here, so that a checkout, an editable install and a wheel agree.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from mapapp.errors import BundledFileMissing

# Folder in the checkout -> its name inside the installed package (mapapp/gazetteer/ is already code).
FOLDERS = {"static": "static", "gazetteer": "gazetteer_data", "seeds": "seeds"}


def checkout_root() -> Path | None:
    """The source checkout mapapp is imported from (editable install or PYTHONPATH), else None (a wheel)."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() else None


def folder(name: str) -> Path:
    """The bundled folder `name` ('static', 'gazetteer' or 'seeds'): the package's copy, else the checkout's.

    Never raises: when neither exists it returns the package's location, so that the reader's error names
    where the file should have been (see require()).
    """
    # An installed wheel's files live on disk (pip never installs zipped), so the Traversable is a Path.
    packaged = Path(str(resources.files("mapapp").joinpath(FOLDERS[name])))
    if packaged.is_dir():
        return packaged
    root = checkout_root()
    if root is not None and (root / name).is_dir():
        return root / name
    return packaged


def path(name: str, *parts: str) -> Path:
    """A file or folder inside the bundled folder `name`, e.g. path('gazetteer', 'curated.geojson')."""
    return folder(name).joinpath(*parts)


def require(file: Path, what: str) -> Path:
    """`file` when it exists; else BundledFileMissing naming `what` it is and where it should be."""
    if not file.exists():
        raise BundledFileMissing(f"{what} {file} is missing: this mapapp installation is incomplete "
                                 f"(reinstall it, or restore the file in a checkout)")
    return file
