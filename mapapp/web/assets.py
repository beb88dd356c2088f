"""Blueprint 'assets' (placeholder until its owner builds it)."""
from flask import Blueprint

bp = Blueprint("assets", __name__, url_prefix="/vendor" or None)
