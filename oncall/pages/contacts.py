"""The contacts page: every engineer the line can ring, adding one, editing, deactivating."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from core.clock import current_clock
from core.db import db
from core.phones import to_e164
from core.settings import current_settings
from oncall import service
from oncall.models import Contact
from web.pages import field_errors
from oncall.service import InvalidChange
from staff.admins import login_required

FIELDS = ("name", "phone", "email")


def _contact_fields() -> dict[str, str]:
    return {name: request.form.get(name, "") for name in FIELDS}


def _contacts_page(form: dict[str, str], status: int = 200, errors: dict[str, str] | None = None) -> tuple[str, int]:
    contacts = db().scalars(select(Contact).order_by(Contact.active.desc(), Contact.name, Contact.id)).all()
    rotation = service.rotation_in_force(db(), current_clock())
    in_rotation = {m.contact_id for m in rotation.members} if rotation else set()
    region = current_settings().phone_region
    unusable = {c.id for c in contacts if to_e164(c.phone, region) is None}
    return render_template("oncall/contacts.html", contacts=contacts, form=form, in_rotation=in_rotation,
                           unusable=unusable, errors=errors or {}), status


@login_required
def contacts() -> tuple[str, int]:
    """Every contact, with a form to add one."""
    return _contacts_page(dict.fromkeys(FIELDS, ""))


@login_required
def add_contact() -> Any:
    """Add a contact; a bad phone number or name is shown next to its field and nothing is saved."""
    form = _contact_fields()
    try:
        contact = service.add_contact(db(), form, region=current_settings().phone_region, now=current_clock(),
                                      actor=g.actor)
    except InvalidChange as error:
        db().rollback()
        flash(f"Not added: {error}.", "error")
        return _contacts_page(form, 422, field_errors(error))
    flash(f"Added {contact.name} ({contact.phone}). Put them in the rotation on the Rotation page.", "ok")
    return redirect(url_for("oncall.contacts"))


def _feed_url(contact_id: int | None) -> str:
    return url_for("oncall_feeds.calendar", secret=service.feed_secret(db(), contact_id, current_clock()),
                   _external=True)


@login_required
def edit_contact(contact_id: int) -> str:
    """A contact's edit form, and their calendar link."""
    contact = service.get_contact(db(), contact_id)
    form = {"name": contact.name, "phone": contact.phone, "email": contact.email or ""}
    return render_template("oncall/contact.html", contact=contact, form=form, feed_url=_feed_url(contact.id))


@login_required
def rotate_contact_feed(contact_id: int) -> Response:
    """A new calendar link for a contact; the old one stops working (it leaked, or they left)."""
    service.rotate_feed_secret(db(), contact_id, now=current_clock(), actor=g.actor)
    flash("New calendar link made: the old one no longer works. Give the new one to whoever should have it.", "ok")
    return redirect(url_for("oncall.edit_contact", contact_id=contact_id))


@login_required
def update_contact(contact_id: int) -> Any:
    """Change a contact's name, phone or email."""
    form = _contact_fields()
    try:
        contact = service.update_contact(db(), contact_id, form, region=current_settings().phone_region,
                                         now=current_clock(), actor=g.actor)
    except InvalidChange as error:
        db().rollback()
        flash(f"Not saved: {error}.", "error")
        return render_template("oncall/contact.html", contact=service.get_contact(db(), contact_id), form=form,
                               feed_url=_feed_url(contact_id), errors=field_errors(error)), 422
    flash(f"Saved {contact.name}.", "ok")
    return redirect(url_for("oncall.contacts"))


@login_required
def set_contact_active(contact_id: int) -> Response:
    """Deactivate a contact (the rotation skips them, nobody rings them) or bring them back."""
    active = request.form.get("active") == "yes"
    contact = service.update_contact(db(), contact_id, {"active": active}, region=current_settings().phone_region,
                                     now=current_clock(), actor=g.actor)
    on_duty = service.duty_at(db(), current_clock()).on_duty
    now_on_duty = f"{on_duty.name} is on duty now." if on_duty else "Nobody is on duty now."
    if active:
        flash(f"{contact.name} is active again. {now_on_duty}", "ok")
    else:
        flash(f"{contact.name} is inactive: the rotation skips them and the line no longer rings them. "
              f"{now_on_duty}", "ok")
    return redirect(url_for("oncall.contacts"))
