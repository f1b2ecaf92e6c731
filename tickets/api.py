"""The REST API for tickets (contract §7)."""

from flask import Blueprint

bp = Blueprint("tickets_api", __name__, url_prefix="/api")
