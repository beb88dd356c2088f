"""Blueprint 'auth' (placeholder until its owner builds it)."""
from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth" or None)


def init_app(app):
    """Set up login and CSRF protection (placeholder)."""
