"""Blueprint 'public' (placeholder until its owner builds it)."""
from flask import Blueprint

bp = Blueprint("public", __name__, url_prefix="" or None)
