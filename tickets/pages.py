"""The admin pages for tickets."""

from flask import Blueprint

bp = Blueprint("ticket_pages", __name__, url_prefix="/admin/tickets")
