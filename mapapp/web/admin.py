"""Blueprint 'admin' (placeholder until its owner builds it)."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin" or None)
