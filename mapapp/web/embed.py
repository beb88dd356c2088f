"""Blueprint 'embed' (placeholder until its owner builds it)."""
from flask import Blueprint

bp = Blueprint("embed", __name__, url_prefix="/embed" or None)
