"""The line's front door, `/`: what a newcomer who opens the address `make run` prints finds."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("home", __name__, template_folder="templates")


@bp.get("/")
def home() -> str:
    """Where to go from here: the admin pages, the REST API's description, the health check."""
    return render_template("home.html")
