"""The overrides page: who covers instead of the rotation, from when until when."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select

from core.clock import current_clock
from core.db import db
from oncall import service
from oncall.models import Contact, Override
from oncall.pages.forms import contact_field, local_input, local_instant
from oncall.service import ChangeConflict, InvalidChange
from staff.admins import login_required
from web.pages import current_page, field_errors, home_zone, page_of, when


def _overrides_page(form: dict[str, str], status: int = 200, errors: dict[str, str] | None = None) -> tuple[str, int]:
    now = current_clock()
    show_past = request.args.get("past") == "1"
    query = select(Override).order_by(Override.start.desc() if show_past else Override.start, Override.id)
    if not show_past:
        query = query.where(Override.end > now)
    overrides = page_of(db(), query, current_page())
    contacts = db().scalars(select(Contact).where(Contact.active).order_by(Contact.name, Contact.id)).all()
    return render_template("oncall/overrides.html", overrides=overrides, contacts=contacts, form=form, now=now,
                           show_past=show_past, overlaps=service.overlaps(db(), overrides.items),
                           errors=errors or {}), status


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
            raise InvalidChange("choose who covers", "contact_id")
        if not form["end"]:
            raise InvalidChange("give the date and time the cover ends, in Until", "end")
        start = local_instant(form["start"], home_zone(), "the start", "start") if form["start"] else now
        override = service.add_override(
            db(),
            {
                "contact_id": contact_field(form["contact_id"], "the contact", "contact_id"),
                "start": start.isoformat(),
                "end": local_instant(form["end"], home_zone(), "the end", "end").isoformat(),
            },
            now=now,
            actor=g.actor,
        )
    except InvalidChange as error:
        db().rollback()
        flash(f"Not added: {error}.", "error")
        return _overrides_page(form, 422, field_errors(error))
    flash(Markup("{} covers from {} until {}.").format(override.contact.name, when(override.start),
                                                     when(override.end)), "ok")
    return redirect(url_for("oncall.overrides"))


def _override_page(override: Override, form: dict[str, str], status: int = 200,
                   errors: dict[str, str] | None = None) -> tuple[str, int]:
    return render_template("oncall/override.html", override=override, form=form, now=current_clock(),
                           errors=errors or {}), status


def _found(override_id: int) -> Override:
    override = db().get(Override, override_id)
    if override is None:
        raise service.NotFound(f"there is no override {override_id}")
    return override


@login_required
def edit_override(override_id: int) -> tuple[str, int]:
    """One override: change its end (and its start, before it starts), end it now, or remove it."""
    override = _found(override_id)
    zone = home_zone()
    return _override_page(override, {"start": local_input(override.start, zone), "end": local_input(override.end, zone)})


@login_required
def change_override(override_id: int) -> Any:
    """Save a new start (before the override starts) or end, as local times in the rotation's zone."""
    override = _found(override_id)
    form = {name: request.form.get(name, "").strip() for name in ("start", "end")}
    try:
        fields = {name: local_instant(form[name], home_zone(), f"the {name}", name).isoformat()
                  for name in ("start", "end") if form[name]}
        override = service.change_override(db(), override_id, fields, now=current_clock(), actor=g.actor)
    except InvalidChange as error:
        db().rollback()
        flash(f"Not changed: {error}.", "error")
        return _override_page(_found(override_id), form, 409 if isinstance(error, ChangeConflict) else 422,
                              field_errors(error))
    flash(Markup("{} covers from {} until {}.").format(override.contact.name, when(override.start),
                                                     when(override.end)), "ok")
    return redirect(url_for("oncall.overrides"))


@login_required
def end_override(override_id: int) -> Any:
    """End an override in progress now; its record, and the hours it covered, stay."""
    try:
        override = service.end_override(db(), override_id, now=current_clock(), actor=g.actor)
    except ChangeConflict as error:
        db().rollback()
        flash(f"Not ended: {error}.", "error")
        return redirect(url_for("oncall.overrides"))
    flash(Markup("{}'s override ended at {}: the rotation decides from then.").format(
        override.contact.name, when(override.end)), "ok")
    return redirect(url_for("oncall.overrides"))


@login_required
def delete_override(override_id: int) -> Any:
    """Remove an override that has not started, once the admin confirms (the first post asks)."""
    override = _found(override_id)
    if request.form.get("confirm") != "yes":
        return render_template("oncall/override_remove.html", override=override)
    try:
        service.delete_override(db(), override_id, now=current_clock(), actor=g.actor)
    except ChangeConflict as error:
        db().rollback()
        flash(f"Not removed: {error}.", "error")
        return redirect(url_for("oncall.overrides"))
    flash("Override removed: the rotation decides for that time.", "ok")
    return redirect(url_for("oncall.overrides"))
