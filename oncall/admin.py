"""The admin pages for the on-call side: login, on call now, contacts, rotation, overrides, audit."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
