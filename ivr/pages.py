"""The admin pages for the call log."""

from flask import Blueprint

bp = Blueprint("call_pages", __name__, url_prefix="/admin/calls")
