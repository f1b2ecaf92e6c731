"""The admin shell: what every server-rendered admin page shares.

The page template (`base.html`), the pager, the "not found" page, the stylesheet, the
response headers that keep pages out of frames and caches, paging, and times shown the way
a manager reads them: in the rotation's time zone with its abbreviation, and in the viewer's
own zone when that differs (`?tz=`, remembered in the session). The rotation's zone comes from
the on-call area through `init_app(home_zone=...)`, so the shell knows no area.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, Flask, Response, current_app, flash, g, render_template, request, session
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from sqlalchemy import Select
from sqlalchemy.orm import Session

from core.clock import current_clock
from core.db import rows_and_more
from core.limits import Refusal, whole_number
from core.settings import current_settings

bp = Blueprint("shell", __name__, template_folder="templates", static_folder="static",
               static_url_path="/admin/static")

PAGE_SIZE = 50
MAX_PAGE_NUMBER = 100_000
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
_HOME_ZONE = "supportline.home_zone"


def init_app(app: Flask, *, home_zone: Callable[[], str]) -> None:
    """Register the shell; `home_zone` names the zone pages show times in (the rotation's)."""
    app.extensions[_HOME_ZONE] = home_zone
    app.register_blueprint(bp)
    app.register_error_handler(CSRFError, _csrf_refused)


def protect_pages(blueprint: Blueprint) -> None:
    """Keep `blueprint`'s pages out of other sites' frames and out of shared caches."""

    @blueprint.after_request
    def _headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.endpoint != f"{blueprint.name}.static":
            response.headers["Cache-Control"] = "no-store"
        return response


protect_pages(bp)


def missing(message: str, status: int = 404) -> tuple[str, int]:
    """The page for something that is not there (or a form that was refused): the message, and a way back."""
    flash(message, "error")
    return render_template("missing.html"), status


def _csrf_refused(error: CSRFError) -> tuple[str, int]:
    return missing(f"This form was refused: {error.description.rstrip('.')}. Reload the page and try again.", 400)


# ----------------------------------------------------------------------------- paging


def current_page() -> int:
    """The `?page=` number, 1 when missing or not a positive whole number."""
    return whole_number(request.args.get("page"), MAX_PAGE_NUMBER - 1) or 1


@dataclass(frozen=True)
class Page:
    """One page of a list, newest first, and whether there is another."""

    items: list[Any]
    number: int
    has_next: bool


def page_of(session: Session, query: Select[Any], number: int) -> Page:
    """Rows `PAGE_SIZE * (number - 1)` onwards of `query`."""
    rows, more = rows_and_more(session, query, PAGE_SIZE, PAGE_SIZE * (number - 1))
    return Page(items=rows, number=number, has_next=more)


# ----------------------------------------------------------------------------- times for people


def known_zone(name: str) -> ZoneInfo | None:
    """The IANA zone `name`, or None if there is none by that name."""
    try:
        return ZoneInfo(name) if name and name not in {"localtime", "posixrules"} else None
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def home_zone() -> ZoneInfo:
    """The zone pages show times in first: the rotation's (the support time zone while there is none)."""
    if "home_zone" not in g:
        g.home_zone = known_zone(current_app.extensions[_HOME_ZONE]()) or ZoneInfo("UTC")
    return g.home_zone


def forget_home_zone() -> None:
    """The rotation's zone may have changed in this request: read it afresh."""
    g.pop("home_zone", None)


def viewer_zone() -> ZoneInfo:
    """The zone the viewer reads times in: `?tz=` (remembered in the session), else the rotation's."""
    if "viewer_zone" not in g:
        chosen = request.args.get("tz", "").strip()
        if chosen:
            if known_zone(chosen) is not None:
                session["viewer_tz"] = chosen
            else:
                flash(f"{chosen!r} is not a time zone; showing {home_zone().key}.", "error")
                session.pop("viewer_tz", None)
        remembered = session.get("viewer_tz")
        g.viewer_zone = (known_zone(remembered) if remembered else None) or home_zone()
    return g.viewer_zone


def _abbreviation(local: datetime) -> str:
    name = local.tzname() or ""
    # Zones without a letter abbreviation give an offset such as "+04".
    return f"UTC{name}" if name[:1] in "+-" else name


def _local_text(moment: datetime, tz: ZoneInfo, now: datetime, seconds: bool) -> str:
    local = moment.astimezone(tz)
    pattern = "%a %d %b %Y, %H:%M" if local.year != now.astimezone(tz).year else "%a %d %b, %H:%M"
    return f"{local.strftime(pattern + (':%S' if seconds else ''))} {_abbreviation(local)}"


@bp.app_template_filter("when")
def when(moment: datetime | None, seconds: bool = False) -> Markup:
    """A time in the rotation's zone with its abbreviation, and in the viewer's zone when that differs."""
    if moment is None:
        return Markup("—")
    now = current_clock()
    home, viewer = home_zone(), viewer_zone()
    text = Markup('<time datetime="{}">{}</time>').format(moment.isoformat(), _local_text(moment, home, now, seconds))
    if viewer.key != home.key and moment.astimezone(viewer).utcoffset() != moment.astimezone(home).utcoffset():
        text += Markup(' <span class="viewer-time">({})</span>').format(_local_text(moment, viewer, now, seconds))
    return text


def sentence(text: str) -> str:
    """`text` as a sentence: its first letter a capital (names inside stay as written), a full stop at the end."""
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")


def field_errors(error: Refusal, form_names: Mapping[str, str] | None = None) -> dict[str, str]:
    """A refusal keyed by the form field it names (none if it names none), to show next to that field.

    `form_names` maps the domain's field names to the form's where they differ.
    """
    if error.field is None:
        return {}
    return {(form_names or {}).get(error.field, error.field): sentence(str(error))}


def duration_words(span: timedelta) -> str:
    """A length of time as a tired engineer reads it at a glance: "2 d 5 h", "1 h 20 min", "7 min"."""
    minutes = int(abs(span.total_seconds())) // 60
    if minutes < 1:
        return "less than a minute"
    days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days} d" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    return f"{minutes} min"


@bp.app_template_filter("from_now")
def from_now(moment: datetime | None) -> str:
    """How far `moment` is from now, roughly: "in 2 d 5 h", "40 min ago"."""
    if moment is None:
        return ""
    span = moment - current_clock()
    amount = duration_words(span)
    return f"in {amount}" if span >= timedelta(0) else f"{amount} ago"


@bp.app_template_filter("time_left")
def time_left(due: datetime, now: datetime) -> str:
    """How long until a first response is due: "due in 1 h 20 min", or "overdue by 3 h" once it passed."""
    if due >= now:
        return f"due in {duration_words(due - now)}"
    return f"overdue by {duration_words(now - due)}"


@bp.app_template_filter("duration")
def duration(span: timedelta | None) -> str:
    """A length of time in words, or "—" for none."""
    return "—" if span is None else duration_words(span)


@bp.app_template_filter("call_length")
def call_length(seconds: int | None) -> str:
    """A call's length to the second: "1 min 28 s"."""
    if seconds is None:
        return "—"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


@bp.app_context_processor
def _page_globals() -> dict[str, Any]:
    return {"admin": g.get("admin"), "viewer_zone": viewer_zone, "home_zone": home_zone,
            "phone_region": current_settings().phone_region}
