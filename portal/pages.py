"""The portal's pages (`/support`): sign in by mailed link, log a request, follow one's tickets.

Each view reads the form, calls one domain function (`portal.sign_in`, `portal.visibility`,
`tickets.requesters`) and renders a page. Another's ticket is a 404, like one that does not exist;
every form carries its CSRF token; signing in and logging a request without signing in are
throttled per address and per client (`web.throttle`).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, abort, flash, g, redirect, render_template, request, send_file, session, url_for
from flask_limiter import RateLimitExceeded
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from core.clock import current_clock
from core.db import db
from core.settings import current_settings
from oncall.service import duty_at
from people.models import Person
from people.service import InvalidAccountChange, add_unknown_sender, checked_email, person_by_email
from portal import sign_in
from portal.visibility import managed_customers, my_tickets, ticket_seen_by
from tickets import requesters
from tickets.fields import InvalidTicketChange, TicketConflict
from tickets.links import read_rating_token
from tickets.models import STATUSES, Attachment, Comment, Ticket
from tickets.records import find_ticket
from tickets.sla import RESPONSE_TARGETS, SEVERITY_DEFINITIONS, target_description
from web.pages import current_page, field_errors, missing, protect_pages
from web.throttle import limiter

bp = Blueprint("portal", __name__, url_prefix="/support", template_folder="templates")
protect_pages(bp)

PORTAL_ACTOR = "portal"
# Sign-in links: a few for one address, more for one client (an office behind one address).
SIGN_IN_PER_ADDRESS = "5 per 15 minutes"
SIGN_IN_PER_CLIENT = "30 per hour"
# Requests logged without signing in.
GUEST_REQUESTS_PER_ADDRESS = "5 per hour"
GUEST_REQUESTS_PER_CLIENT = "20 per hour"
UPLOAD_ENDPOINTS = frozenset({"portal.new_request", "portal.add_comment"})


def init_app(app: Flask) -> None:
    """Let the portal's upload forms bring files up to the mail limit (the line's other requests stay
    small); registered before CSRF protection reads the form."""

    @app.before_request
    def _allow_uploads() -> None:
        if request.endpoint in UPLOAD_ENDPOINTS:
            request.max_content_length = current_settings().mail_max_message_bytes + 1_000_000


# ----------------------------------------------------------------------------- who is signed in


def current_person() -> Person | None:
    """The person this browser is signed in as, if any (read once a request)."""
    if "person" not in g:
        g.person = sign_in.signed_in_person(db(), session.get("person_id"), session.get("person_key"),
                                            current_settings().secret_key) if "person_id" in session else None
    return g.person


def signed_in_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Send a visitor who is not signed in to the sign-in page, to come back here after."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if current_person() is None:
            return redirect(url_for("portal.home", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return checked


@bp.app_context_processor
def _portal_globals() -> dict[str, Any]:
    return {"person": g.get("person")}


def _external(endpoint: str, **values: Any) -> str:
    """A full URL to a portal page, for mail: under PUBLIC_URL when set, else as this request reached us."""
    base = current_settings().public_url
    return f"{base}{url_for(endpoint, **values)}" if base else url_for(endpoint, _external=True, **values)


def _address_key() -> str:
    return request.form.get("email", "").strip().lower()[:254] or "-"


@bp.errorhandler(RateLimitExceeded)
def _throttled(error: RateLimitExceeded) -> tuple[str, int]:
    if request.endpoint == "portal.new_request":
        flash("Too many requests from here or for that address in the last hour. Try again later, call the "
              "support line, or sign in: signed-in requests are not held back.", "error")
        return _new_request_page(_request_form(), status=429)
    flash("Too many requests from here or for that address just now. Wait a quarter of an hour and try again; "
          "a link already sent still works.", "error")
    return render_template("portal/sign_in.html", email=request.form.get("email", ""), next=""), 429


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
    limit = current_settings().mail_max_message_bytes
    return missing(f"The files are too large: at most {requesters.size_words(limit)} go with one message. "
                   "Go back and attach fewer or smaller files.", 413)


# ----------------------------------------------------------------------------- signing in


@bp.get("")
def home() -> Any:
    """The customer's home: their tickets when signed in, else the sign-in form."""
    if current_person() is not None:
        return redirect(sign_in.safe_next(request.args.get("next")))
    return render_template("portal/sign_in.html", email="", next=request.args.get("next", ""))


@bp.post("/sign-in")
@limiter.limit(SIGN_IN_PER_ADDRESS, key_func=_address_key, scope="portal-sign-in-address")
@limiter.limit(SIGN_IN_PER_CLIENT, scope="portal-sign-in-client")
def request_link() -> str:
    """Mail a sign-in link to a known address. The answer is the same whether it is known or not."""
    address = request.form.get("email", "").strip()
    try:
        email = checked_email(address)
    except InvalidAccountChange as error:
        return render_template("portal/sign_in.html", email=address, next=request.form.get("next", ""),
                               errors={"email": f"{error}."}), 422
    if email is None:
        return render_template("portal/sign_in.html", email="", next=request.form.get("next", ""),
                               errors={"email": "Give the e-mail address support knows you by."}), 422
    person = person_by_email(db(), email)
    if person is not None:
        now = current_clock()
        token = sign_in.make_link_token(db(), person, current_settings().secret_key, now, request.form.get("next", ""))
        sign_in.send_link(db(), person, _external("portal.sign_in_page", token=token), now)
        db().commit()
    return render_template("portal/link_sent.html", email=email)


def _link_or_refusal(token: str) -> sign_in.SignInLink | tuple[str, int]:
    link = sign_in.read_link(current_settings().secret_key, token, current_clock())
    if link is None:
        flash("This sign-in link is not valid: it expired, was used already or was changed. Ask for a new one.",
              "error")
        return render_template("portal/sign_in.html", email="", next=""), 400
    return link


@bp.get("/sign-in/<token>")
def sign_in_page(token: str) -> Any:
    """The page a mailed link opens: one button signs in (mail scanners that open links sign nobody in)."""
    link = _link_or_refusal(token)
    if isinstance(link, tuple):
        return link
    return render_template("portal/confirm_sign_in.html", token=token, email=link.email)


@bp.post("/sign-in/<token>")
def use_link(token: str) -> Any:
    """Use a sign-in link: once, within its time, for the person it was sent to."""
    link = _link_or_refusal(token)
    if isinstance(link, tuple):
        return link
    person = sign_in.use_link(db(), link, current_clock())
    if person is None:
        flash("This sign-in link was used already, or a newer one was. Ask for a new one.", "error")
        return render_template("portal/sign_in.html", email="", next=""), 400
    session.clear()
    session.permanent = True
    session["person_id"] = person.id
    session["person_key"] = sign_in.key_for(db(), person, current_settings().secret_key)
    return redirect(link.next_path)


@bp.post("/sign-out")
def sign_out() -> Response:
    """End the session on the server too: this cookie, and every other of the person's, stops working."""
    person = current_person()
    if person is not None:
        sign_in.end_sessions(db(), person.id)
    session.clear()
    flash("You are signed out.", "ok")
    return redirect(url_for("portal.home"))


# ----------------------------------------------------------------------------- the tickets


@bp.get("/tickets")
@signed_in_required
def tickets() -> str:
    """My tickets: those still with support first, then the newest; `?status=` keeps one status."""
    status = request.args.get("status", "")
    chosen = status if status in STATUSES else None
    if status and chosen is None:
        flash(f"There is no status {status[:40]!r}; showing every ticket.", "error")
    person = current_person()
    assert person is not None
    page = current_page()
    rows, more = my_tickets(db(), person, status=chosen, page=page)
    return render_template("portal/tickets.html", tickets=rows, has_next=more, page=page, status=chosen or "",
                           statuses=STATUSES, now=current_clock(), partner=_is_partner(person))


def _is_partner(person: Person) -> bool:
    return person.organization is not None and person.organization.kind == "partner"


def _request_form() -> dict[str, str]:
    names = ("severity", "subject", "description", "callback_number", "organization_id", "name", "email")
    return {name: request.form.get(name, "").strip() for name in names}


def _new_request_page(form: dict[str, str], errors: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    person = current_person()
    severities = [(s.value, SEVERITY_DEFINITIONS[s], target_description(s)) for s in RESPONSE_TARGETS]
    customers = managed_customers(db(), person) if person is not None else []
    return render_template("portal/new_request.html", form=form, errors=errors or {}, severities=severities,
                           customers=customers, max_size=requesters.size_words(current_settings().mail_max_message_bytes),
                           max_files=requesters.MAX_FILES), status


@bp.get("/new")
def new_request_form() -> tuple[str, int]:
    """The form to log a request, signed in or not."""
    return _new_request_page({"severity": "", "organization_id": ""})


def _uploads() -> list[requesters.Upload]:
    return [requesters.Upload(f.filename or "", f.mimetype or "", f.read()) for f in request.files.getlist("files")]


def _signed_in() -> bool:
    return current_person() is not None


@bp.post("/new")
@limiter.limit(GUEST_REQUESTS_PER_ADDRESS, key_func=_address_key, exempt_when=_signed_in,
               scope="portal-guest-address")
@limiter.limit(GUEST_REQUESTS_PER_CLIENT, exempt_when=_signed_in, scope="portal-guest-client")
def new_request() -> Any:
    """Log a request. Signed in: for the person's organisation (a partner's person picks the customer).
    Not signed in: for the address given, whose owner gets a sign-in link to follow it."""
    form = _request_form()
    settings = current_settings()
    person = current_person()
    now = current_clock()
    try:
        organization_id = _organization_for(person, form["organization_id"])
        requester = person if person is not None else _guest(form)
        ticket = requesters.log_request(
            db(), form, _uploads(), requester=requester, organization_id=organization_id,
            region=settings.phone_region, calendar=settings.calendar, now=now, duty=duty_at(db(), now),
            max_bytes=settings.mail_max_message_bytes)
    except (InvalidTicketChange, InvalidAccountChange) as error:
        db().rollback()
        return _new_request_page(form, field_errors(error), 422)
    if person is None:
        token = sign_in.make_link_token(db(), requester, settings.secret_key, now, f"/support/tickets/{ticket.number}")
        sign_in.send_link(db(), requester, _external("portal.sign_in_page", token=token), now)
        db().commit()
    return render_template("portal/logged.html", ticket=ticket, guest_email=None if person else requester.email,
                           target=target_description(ticket.severity))


def _organization_for(person: Person | None, chosen: str) -> int | None:
    """The organisation a request is for: the person's own, or a customer their partner manages."""
    if person is None:
        return None
    if not chosen or chosen == str(person.organization_id):
        return person.organization_id
    for customer in managed_customers(db(), person):
        if str(customer.id) == chosen:
            return customer.id
    raise InvalidTicketChange("choose your organisation or one of the customers listed", "organization_id")


def _guest(form: dict[str, str]) -> Person:
    """The person a visitor names: the one with that address, or a new one for an admin to place."""
    if not form["name"]:
        raise InvalidAccountChange("give your name", "name")
    email = checked_email(form["email"])
    if email is None:
        raise InvalidAccountChange("give your e-mail address: the link to follow the ticket goes there", "email")
    known = person_by_email(db(), email)
    return known or add_unknown_sender(db(), email, form["name"], now=current_clock(), actor=PORTAL_ACTOR)


def _ticket_or_404(number: str, *, for_update: bool = False) -> Ticket:
    person = current_person()
    assert person is not None
    ticket = ticket_seen_by(db(), person, number, for_update=for_update)
    if ticket is None:
        abort(404)
    return ticket


@bp.errorhandler(404)
def _not_found(error: Any) -> tuple[str, int]:
    return missing("There is no such ticket among yours. Check the number, or see My tickets.")


def _ticket_page(ticket: Ticket, form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                 status: int = 200) -> tuple[str, int]:
    person = current_person()
    assert person is not None
    conversation = [c for c in ticket.comments if c.public]
    return render_template("portal/ticket.html", ticket=ticket, conversation=conversation, now=current_clock(),
                           form=form or {}, errors=errors or {}, requester=ticket.requester_id == person.id,
                           own_call=ticket.source == "phone" and ticket.requester_id == person.id,
                           max_size=requesters.size_words(current_settings().mail_max_message_bytes),
                           max_files=requesters.MAX_FILES), status


@bp.get("/tickets/<number>")
@signed_in_required
def ticket(number: str) -> tuple[str, int]:
    """One ticket as its requester sees it: where it stands, the public conversation, what they can do."""
    return _ticket_page(_ticket_or_404(number))


def _person() -> Person:
    person = current_person()
    assert person is not None
    return person


def _acted(ticket: Ticket, act: Callable[[], Any], done: str, form: dict[str, str]) -> Any:
    try:
        act()
    except (InvalidTicketChange, TicketConflict) as error:
        db().rollback()
        flash(f"Not saved: {error}.", "error")
        refreshed = _ticket_or_404(str(ticket.number))
        errors = field_errors(error) if isinstance(error, InvalidTicketChange) else {}
        return _ticket_page(refreshed, form, errors, 409 if isinstance(error, TicketConflict) else 422)
    flash(done, "ok")
    return redirect(url_for("portal.ticket", number=ticket.number))


@bp.post("/tickets/<number>/comments")
@signed_in_required
def add_comment(number: str) -> Any:
    """Add to the conversation, with files; a resolved ticket opens again."""
    found = _ticket_or_404(number, for_update=True)
    body = request.form.get("body", "")
    limit = current_settings().mail_max_message_bytes
    return _acted(found, lambda: requesters.comment(db(), found, body, _uploads(), person=_person(), now=current_clock(),
                                                    max_bytes=limit), "Your comment is on the ticket.", {"body": body})


@bp.post("/tickets/<number>/resolution")
@signed_in_required
def resolution(number: str) -> Any:
    """The requester's answer to a resolution: it holds (the ticket closes) or it does not (it opens again)."""
    found = _ticket_or_404(number, for_update=True)
    if request.form.get("answer") == "confirm":
        return _acted(found, lambda: requesters.confirm_resolved(db(), found, person=_person(), now=current_clock()),
                      f"Thank you: ticket {found.number} is closed.", {})
    why = request.form.get("why", "")
    now = current_clock()
    return _acted(found, lambda: requesters.not_resolved(db(), found, why, person=_person(), now=now,
                                                         duty=duty_at(db(), now)),
                  f"Ticket {found.number} is open again; the engineer on duty is told.", {"why": why})


@bp.post("/tickets/<number>/satisfaction")
@signed_in_required
def satisfaction(number: str) -> Any:
    """The requester says whether the ticket was resolved to their satisfaction."""
    found = _ticket_or_404(number, for_update=True)
    if found.requester_id != _person().id:
        abort(404)
    answer, remark = request.form.get("answer", ""), request.form.get("remark", "")
    return _acted(found, lambda: requesters.rate(db(), found, answer, remark, person=_person(), now=current_clock()),
                  "Thank you for your answer.", {"remark": remark, "answer": answer})


@bp.get("/tickets/<number>/attachments/<int(max=2147483647):attachment_id>")
@signed_in_required
def attachment(number: str, attachment_id: int) -> Any:
    """A file of the public conversation, as a download (never shown inline, whatever it claims to be)."""
    found = _ticket_or_404(number)
    kept = db().scalar(select(Attachment).join(Comment).where(
        Attachment.id == attachment_id, Comment.ticket_id == found.id, Comment.public))
    if kept is None:
        abort(404)
    download = send_file(io.BytesIO(kept.data), mimetype="application/octet-stream", as_attachment=True,
                         download_name=kept.filename)
    download.headers["X-Content-Type-Options"] = "nosniff"
    return download


# ----------------------------------------------------------------------------- one-click answers from mail


def _rated_ticket(token: str) -> tuple[Ticket, Person, str] | None:
    link = read_rating_token(current_settings().secret_key, token, current_clock())
    if link is None:
        return None
    found = find_ticket(db(), link.ticket_number)
    if found is None or not link.still_asks(found) or found.requester is None:
        return None
    return found, found.requester, link.answer


@bp.route("/rate/<token>", methods=["GET", "POST"])
def rate_by_link(token: str) -> Any:
    """The answer a mailed link carries, confirmed with one button (and a comment if they like): no
    sign-in needed for this one answer."""
    rated = _rated_ticket(token)
    if rated is None:
        return missing("This link no longer asks anything: the ticket was reopened or the link is too old. "
                       "Sign in to see the ticket.", 400)
    found, requester, answer = rated
    if request.method == "GET":
        return render_template("portal/rate.html", ticket=found, answer=answer, token=token, remark="", errors={})
    remark = request.form.get("remark", "")
    chosen = request.form.get("answer", answer)
    try:
        requesters.rate(db(), found, chosen, remark, person=requester, now=current_clock())
    except (InvalidTicketChange, TicketConflict) as error:
        db().rollback()
        errors = field_errors(error) if isinstance(error, InvalidTicketChange) else {}
        return render_template("portal/rate.html", ticket=found, answer=chosen, token=token, remark=remark,
                               errors=errors), 422
    return render_template("portal/rated.html", ticket=found)
