"""The overrides page: who covers instead of the rotation, from when until when."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, g, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select

from core.clock import current_clock
from core.db import db
from oncall import service
from oncall.models import Contact, Override
from oncall.pages.forms import contact_field, local_instant
from oncall.service import InvalidChange
from staff.admins import login_required
from web.pages import current_page, home_zone, page_of, when


def _overrides_page(form: dict[str, str], status: int = 200) -> tuple[str, int]:
    now = current_clock()
    show_past = request.args.get("past") == "1"
    query = select(Override).order_by(Override.start.desc() if show_past else Override.start, Override.id)
    if not show_past:
        query = query.where(Override.end > now)
    overrides = page_of(db(), query, current_page())
    contacts = db().scalars(select(Contact).where(Contact.active).order_by(Contact.name, Contact.id)).all()
    return render_template("oncall/overrides.html", overrides=overrides, contacts=contacts, form=form, now=now,
                           show_past=show_past, overlaps=service.overlaps(db(), overrides.items)), status


@login_required
def overrides() -> tuple[str, int]:
    """Current and coming overrides (`?past=1`: all, newest first), with a form to add one."""
    return _overrides_page({"contact_id": request.args.get("contact", ""), "start": "", "end": ""})


@login_required
def add_override() -> Any:
    """Put a contact on duty from a local time (default now) until a local time, in the rotation's zone."""
    form = {name: request.form.get(name, "").strip() for name in ("contact_id", "start", "end")}
    now = current_clock()
    try:
        if not form["contact_id"]:
            raise InvalidChange("choose who covers")
        if not form["end"]:
            raise InvalidChange("give the date and time the cover ends")
        start = local_instant(form["start"], home_zone(), "the start") if form["start"] else now
        override = service.add_override(
            db(),
            {
                "contact_id": contact_field(form["contact_id"], "the contact"),
                "start": start.isoformat(),
                "end": local_instant(form["end"], home_zone(), "the end").isoformat(),
            },
            now=now,
            actor=g.actor,
        )
    except InvalidChange as error:
        db().rollback()
        flash(f"Not added: {error}.", "error")
        return _overrides_page(form, 422)
    flash(Markup("{} covers from {} until {}.").format(override.contact.name, when(override.start),
                                                     when(override.end)), "ok")
    return redirect(url_for("oncall.overrides"))


@login_required
def delete_override(override_id: int) -> Response:
    """Remove an override: the rotation decides again for its time."""
    service.delete_override(db(), override_id, now=current_clock(), actor=g.actor)
    flash("Override removed: the rotation decides again for that time.", "ok")
    return redirect(url_for("oncall.overrides"))
