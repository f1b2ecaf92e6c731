"""The rotation page: the rotation in force as a draft to edit, preview and save from a chosen instant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select

from core.clock import current_clock
from core.db import db
from core.phones import to_e164
from core.settings import current_settings
from oncall import service
from oncall.models import Contact, Rotation
from oncall.pages.forms import contact_field, local_input, local_instant, number_field
from oncall.schedule import InvalidRotation, ShiftSpan, zone
from oncall.service import InvalidChange
from staff.admins import login_required
from web.pages import field_errors, forget_home_zone, home_zone, sentence, when

PREVIEW_DAYS = 14  # looked at first; a whole cycle of long shifts needs more
LONGEST_SHIFT = timedelta(days=29)  # 672 hours, plus a day for a clock change
SHIFT_KINDS = ("daily", "weekly", "hours")
# When a saved change takes effect: at the rotation's next handoff (the default: nobody's shift
# in progress changes hands), now, or at a chosen local time.
TAKES_EFFECT = ("handoff", "now", "at")
# The rotation form's field for each of `oncall.service.save_rotation`'s that it names differently.
FORM_NAMES = {"shift": "shift_hours", "members": "new_member"}


@dataclass
class RotationDraft:
    """The rotation form as typed, kept in the page (no JavaScript) until it is saved."""

    timezone: str
    handoff: str
    shift_kind: str
    shift_hours: str
    backups: str
    members: list[int]
    effective_from: str
    takes_effect: str = "handoff"

    @classmethod
    def of(cls, rotation: Rotation | None, tz: str, now: datetime) -> RotationDraft:
        """The draft that starts from the saved rotation (or an empty weekly one handing off at 09:00)."""
        if rotation is None:
            handoff = now.astimezone(zone(tz)).strftime("%Y-%m-%dT09:00")
            return cls(tz, handoff, "weekly", "", "1", [], "", takes_effect="now")
        return cls(
            timezone=rotation.timezone,
            handoff=rotation.handoff,
            shift_kind=rotation.shift_kind,
            shift_hours=str(rotation.shift_hours or ""),
            backups=str(rotation.backups),
            members=[m.contact_id for m in rotation.members],
            effective_from="",
            takes_effect="handoff" if rotation.members else "now",
        )

    @classmethod
    def from_form(cls, form: Any) -> RotationDraft:
        """The draft the rotation form posted."""
        members = []
        for raw in form.getlist("member"):
            members.append(contact_field(raw, "a rotation member"))
        handoff = form.get("handoff", "").strip()
        if len(handoff) == 19 and handoff.endswith(":00"):
            handoff = handoff[:16]
        effective_from = form.get("effective_from", "").strip()
        takes_effect = form.get("takes_effect", "at" if effective_from else "now")
        if takes_effect not in TAKES_EFFECT:
            raise InvalidChange("choose when the change takes effect: at the next handoff, now, or from a time")
        return cls(
            timezone=form.get("timezone", "").strip(),
            handoff=handoff,
            shift_kind=form.get("shift_kind", ""),
            shift_hours=form.get("shift_hours", "").strip(),
            backups=form.get("backups", "").strip(),
            members=members,
            effective_from=effective_from,
            takes_effect=takes_effect,
        )

    def starts(self, now: datetime, next_handoff: datetime | None) -> datetime:
        """The instant the draft would take effect: the next handoff, now, or the chosen local time."""
        if self.takes_effect == "handoff":
            return next_handoff or now
        if self.takes_effect == "now":
            return now
        if not self.effective_from:
            raise InvalidChange("give the local time the change takes effect from", "effective_from")
        try:
            tz = zone(self.timezone)
        except InvalidRotation as error:
            raise InvalidChange(str(error), "timezone") from None
        return local_instant(self.effective_from, tz, "the change's start", "effective_from")

    def fields(self, now: datetime, next_handoff: datetime | None) -> dict[str, Any]:
        """The draft as `oncall.service.save_rotation` takes it."""
        if self.shift_kind not in SHIFT_KINDS:
            raise InvalidChange("choose a shift: daily, weekly or a number of hours", "shift_kind")
        shift: Any = self.shift_kind
        if self.shift_kind == "hours":
            shift = {"hours": number_field(self.shift_hours, "the shift length in hours", "shift_hours")}
        fields = {
            "timezone": self.timezone,
            "handoff": self.handoff,
            "shift": shift,
            "members": list(self.members),
            "backups": number_field(self.backups, "backups", "backups"),
        }
        if self.takes_effect != "now":
            fields["effective_from"] = self.starts(now, next_handoff).isoformat()
        return fields

    def apply(self, action: str, new_member: str) -> None:
        """Move a member up or down, remove one, or add one; the draft stays unsaved."""
        verb, _, raw_position = action.partition("-")
        if verb == "add":
            if not new_member:
                raise InvalidChange("choose a contact to add to the rotation", "new_member")
            member = contact_field(new_member, "the contact to add", "new_member")
            if member in self.members:
                raise InvalidChange("that contact is in the rotation already", "new_member")
            self.members.append(member)
            return
        position = number_field(raw_position, "the member's place")
        if position >= len(self.members):
            raise InvalidChange("that member is no longer in the draft; reload the page")
        if verb == "up" and position > 0:
            self.members[position - 1], self.members[position] = self.members[position], self.members[position - 1]
        elif verb == "down" and position + 1 < len(self.members):
            self.members[position + 1], self.members[position] = self.members[position], self.members[position + 1]
        elif verb == "remove":
            del self.members[position]


def _one_cycle(fields: dict[str, Any], contacts: dict[int, Contact], start: datetime) -> list[ShiftSpan]:
    """The draft's shifts from `start` until every member has had one: a whole cycle of the rotation."""
    wanted = max(len(fields["members"]), 1)
    for reach in (timedelta(days=PREVIEW_DAYS), wanted * LONGEST_SHIFT):
        shifts = service.preview(fields, contacts, start, start + reach)
        if len(shifts) > wanted:
            break
    return shifts[:wanted]


def surprise(handover: service.Handover, now: datetime, fallback_number: str | None) -> str | None:
    """What the admin must confirm before a save: nobody left on duty, or a handover right now."""
    callers_go = f"the fallback number {fallback_number}" if fallback_number else "voicemail"
    if handover.nobody_on_rotation:
        if handover.after is not None:
            return (f"Nobody on this rotation can be on duty: once {handover.after.name}'s override ends, "
                    f"callers go to {callers_go}.")
        return f"Nobody on this rotation can be on duty: callers go to {callers_go}."
    # Somebody on duty where nobody was is what the admin is fixing, not a surprise.
    if not handover.changes_person or handover.before is None or handover.at > now + timedelta(seconds=1):
        return None
    if handover.after is None:
        return f"Nobody is on duty from now: {handover.before.name} stops and callers go to {callers_go}."
    return f"{handover.after.name} takes over from {handover.before.name} now."


def _surprise_of(fields: dict[str, Any], contacts: dict[int, Contact], now: datetime) -> str | None:
    """`surprise` for a draft that can be saved; for one that cannot, save_rotation says why."""
    if len(contacts) != len(fields["members"]):
        return None
    try:
        handover = service.rotation_handover(db(), fields, contacts, now)
    except InvalidChange:
        return None
    return surprise(handover, now, current_settings().fallback_number)


def _rotation_page(draft: RotationDraft, *, changed: bool, status: int = 200,
                   confirm: str | None = None, errors: dict[str, str] | None = None) -> tuple[str, int]:
    now = current_clock()
    contacts = {c.id: c for c in db().scalars(select(Contact).order_by(Contact.name, Contact.id))}
    shifts: list[ShiftSpan] = []
    preview_error = None
    unknown = [m for m in draft.members if m not in contacts]
    handoff = service.next_handoff(db(), now)
    try:
        if unknown:
            raise InvalidChange(f"there is no contact {unknown[0]}")
        fields = draft.fields(now, handoff)
        shifts = _one_cycle(fields, contacts, draft.starts(now, handoff))
        if not any(s.contact for s in shifts):
            shifts = []
    except InvalidChange as error:
        preview_error = str(error)
    later = db().scalars(select(Rotation).where(Rotation.effective_from > now).order_by(Rotation.effective_from)).all()
    settings = current_settings()
    region = settings.phone_region
    return render_template(
        "oncall/rotation.html",
        draft=draft,
        changed=changed,
        confirm=confirm,
        contacts=contacts,
        candidates=[c for c in contacts.values() if c.id not in draft.members],
        unusable={c.id for c in contacts.values() if to_e164(c.phone, region) is None},
        shifts=shifts,
        preview_error=preview_error,
        later=later,
        next_handoff=handoff,
        warnings=service.coverage_warnings(db(), now, settings.fallback_number, region),
        now_local=local_input(now, home_zone()),
        feed_url=url_for("oncall_feeds.calendar", secret=service.feed_secret(db(), None, now), _external=True),
        shift_kinds=SHIFT_KINDS,
        errors=errors or {},
    ), status


@login_required
def rotate_rotation_feed() -> Any:
    """A new link for the shared rotation calendar; the old one stops working."""
    service.rotate_feed_secret(db(), None, now=current_clock(), actor=g.actor)
    flash("New rotation calendar link made: the old one no longer works.", "ok")
    return redirect(url_for("oncall.rotation"))


@login_required
def rotation() -> tuple[str, int]:
    """The rotation in force, as an editable draft with a preview of its next shifts."""
    now = current_clock()
    saved = service.rotation_in_force(db(), now)
    return _rotation_page(RotationDraft.of(saved, current_settings().support_timezone, now), changed=False)


@login_required
def edit_rotation() -> Any:
    """Change the draft (add, remove, move a member, preview) or save it from the chosen instant."""
    action = request.form.get("action", "preview")
    try:
        draft = RotationDraft.from_form(request.form)
    except InvalidChange as error:
        flash(sentence(str(error)), "error")
        return redirect(url_for("oncall.rotation"))
    if action != "save":
        status, errors = 200, {}
        if action != "preview":
            try:
                draft.apply(action, request.form.get("new_member", ""))
            except InvalidChange as error:
                flash(sentence(str(error)), "error")
                status, errors = 422, field_errors(error, FORM_NAMES)
        return _rotation_page(draft, changed=True, status=status, errors=errors)
    now = current_clock()
    try:
        fields = draft.fields(now, service.next_handoff(db(), now))
        contacts = {c.id: c for c in db().scalars(select(Contact).where(Contact.id.in_(draft.members)))}
        asked = _surprise_of(fields, contacts, now)
        if asked is not None and request.form.get("confirmed") != asked:
            return _rotation_page(draft, changed=True, confirm=asked)
        saved = service.save_rotation(db(), fields, now=now, actor=g.actor)
    except InvalidChange as error:
        db().rollback()
        flash(f"Not saved: {error}.", "error")
        return _rotation_page(draft, changed=True, status=422, errors=field_errors(error, FORM_NAMES))
    forget_home_zone()
    flash(Markup("Rotation saved. It applies from {}; who was on duty before stays as it was.").format(
        when(saved.effective_from)), "ok")
    return redirect(url_for("oncall.rotation"))
