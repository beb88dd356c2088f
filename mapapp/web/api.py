"""Blueprint 'api' (placeholder until its owner builds it)."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api" or None)
