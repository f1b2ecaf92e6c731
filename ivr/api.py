"""The REST API for the call log (contract §7)."""

from flask import Blueprint

bp = Blueprint("calls_api", __name__, url_prefix="/api")
