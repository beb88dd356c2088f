"""Blueprint 'assets': Leaflet and MarkerCluster served from their installed xstatic packages (no CDN)."""
from __future__ import annotations

from flask import Blueprint, abort, send_from_directory

from mapapp.maps.vendor import VENDOR_DIRS

bp = Blueprint("assets", __name__, url_prefix="/vendor")


@bp.get("/<package>/<path:filename>")
def vendor_file(package: str, filename: str):
    """One file of a vendored browser package; 404 for anything else."""
    folder = VENDOR_DIRS.get(package)
    if folder is None:
        abort(404)
    # send_from_directory refuses paths that escape `folder`.
    return send_from_directory(folder, filename, max_age=86400)
