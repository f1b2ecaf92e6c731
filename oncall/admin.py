"""The admin pages for the on-call side: on call now, contacts, rotation, overrides, audit.

Server-rendered for a manager in a hurry on a laptop or a phone: no JavaScript, every
form carries a CSRF token (CSRFProtect in `app.py`), every change goes through
`oncall.service`, which checks it, audits it as `admin:<username>` and commits it.
A change the service refuses is shown as a message above the form it came from, with a
4xx status, and nothing is saved.

What every admin page shares (the page template, times, paging, headers) is the shell's,
`web.pages`; logging in is `staff`'s.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import current_clock
from core.db import db
from core.limits import EARLIEST_YEAR, LATEST_YEAR
from core.phones import to_e164
from core.settings import current_settings
from oncall import service
from oncall.models import Contact, Override, Rotation
from oncall.schedule import InvalidRotation, ShiftSpan, local_to_utc, shift_bounds, zone
from oncall.service import InvalidChange, NotFound
from staff.admins import login_required
from staff.models import AuditEntry
from web.pages import current_page, forget_home_zone, home_zone, missing, page_of, protect_pages, viewer_zone, when

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

TIMELINE_DAYS = 14
PREVIEW_DAYS = 14
LONGEST_SHIFT = timedelta(days=29)  # 672 hours, plus a day for a clock change
LOCAL_INPUT_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")
SHIFT_KINDS = ("daily", "weekly", "hours")
# Offered in the viewer's time zone select; any IANA name works as ?tz=.
COMMON_ZONES = (
    "UTC",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Africa/Johannesburg",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)


def _local_instant(raw: str, tz: ZoneInfo, what: str) -> datetime:
    """A `datetime-local` form value, read as wall time in `tz`, as aware UTC."""
    for pattern in LOCAL_INPUT_FORMATS:
        try:
            wall = datetime.strptime(raw.strip(), pattern)
        except ValueError:
            continue
        if not EARLIEST_YEAR < wall.year < LATEST_YEAR:
            raise InvalidChange(f"{what} {raw!r} is not between {EARLIEST_YEAR} and {LATEST_YEAR}")
        return local_to_utc(wall, tz)
    raise InvalidChange(f"{what} {raw!r} is not a date and time such as 2026-11-26T09:00")


def _local_input(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%dT%H:%M")


def _whole_number(raw: str, what: str) -> int:
    raw = raw.strip()
    if not raw.isdigit() or not raw.isascii() or len(raw) > 9:
        raise InvalidChange(f"{what} must be a whole number, not {raw[:40]!r}")
    return int(raw)


protect_pages(bp)


def rotation_zone_name() -> str:
    """The zone admin pages show times in: the rotation's, else the support time zone (`web.pages.init_app`)."""
    rotation = service.rotation_in_force(db(), current_clock())
    return rotation.timezone if rotation else current_settings().support_timezone


@bp.errorhandler(NotFound)
def _not_found(error: NotFound) -> tuple[str, int]:
    db().rollback()
    return missing(f"{str(error).capitalize()}.")


# ----------------------------------------------------------------------------- on call now


def coverage_warnings(session: Session, now: datetime, fallback_number: str | None, region: str) -> list[str]:
    """Where coverage breaks now: an empty rotation, nobody active, unusable phones, no fallback."""
    warnings = []
    rotation = service.rotation_in_force(session, now)
    contacts = [m.contact for m in rotation.members] if rotation else []
    if not contacts:
        warnings.append("The rotation is empty: no engineer is rung when a customer calls.")
    elif not any(c.active for c in contacts):
        warnings.append("Every member of the rotation is inactive: no engineer is rung when a customer calls.")
    for contact in contacts:
        if contact.active and to_e164(contact.phone, region) is None:
            warnings.append(f"{contact.name} has no valid phone number ({contact.phone!r}): the line cannot ring them.")
    for override in session.scalars(select(Override).where(Override.end > now).order_by(Override.start)):
        if not override.contact.active:
            warnings.append(f"The override for {override.contact.name} is ignored: they are inactive.")
    if fallback_number is None:
        warnings.append(
            "No fallback number is set (FALLBACK_NUMBER): when nobody on the rotation answers, "
            "callers can only leave a voicemail."
        )
    return warnings


def _timeline_window(session: Session, now: datetime) -> tuple[datetime, datetime]:
    """From the start of the shift in force to the end of the shift in force 14 days on: whole shifts."""
    start, end = now, now + timedelta(days=TIMELINE_DAYS)
    first = service.rotation_in_force(session, start)
    if first is not None and first.members:
        start = max(shift_bounds(service.plan_of(first), now)[1], first.effective_from)
    last = service.rotation_in_force(session, end)
    if last is not None and last.members:
        _, shift_start, shift_end = shift_bounds(service.plan_of(last), end)
        if shift_start < end:
            end = shift_end
    return start, end


@bp.get("/")
@login_required
def oncall_now() -> str:
    """Who is on duty, who comes next, when the shift ends, the next 14 days, and what breaks coverage."""
    now, settings = current_clock(), current_settings()
    duty = service.duty_at(db(), now)
    coming = service.duty_at(db(), duty.shift_end) if duty.shift_end else None
    start, end = _timeline_window(db(), now)
    zones = sorted({*COMMON_ZONES, home_zone().key, viewer_zone().key})
    return render_template(
        "oncall/now.html",
        now=now,
        duty=duty,
        coming=coming,
        timeline=service.timeline(db(), start, end),
        warnings=coverage_warnings(db(), now, settings.fallback_number, settings.phone_region),
        fallback_number=settings.fallback_number,
        zones=zones,
    )


# ----------------------------------------------------------------------------- contacts


def _contact_fields() -> dict[str, str]:
    return {name: request.form.get(name, "") for name in ("name", "phone", "email")}


def _contacts_page(form: dict[str, str], status: int = 200) -> tuple[str, int]:
    contacts = db().scalars(select(Contact).order_by(Contact.active.desc(), Contact.name, Contact.id)).all()
    rotation = service.rotation_in_force(db(), current_clock())
    in_rotation = {m.contact_id for m in rotation.members} if rotation else set()
    region = current_settings().phone_region
    unusable = {c.id for c in contacts if to_e164(c.phone, region) is None}
    return render_template("oncall/contacts.html", contacts=contacts, form=form, in_rotation=in_rotation,
                           unusable=unusable), status


@bp.get("/contacts")
@login_required
def contacts() -> tuple[str, int]:
    """Every contact, with a form to add one."""
    return _contacts_page({"name": "", "phone": "", "email": ""})


@bp.post("/contacts")
@login_required
def add_contact() -> Any:
    """Add a contact; a bad phone number or name is shown above the form and nothing is saved."""
    form = _contact_fields()
    try:
        contact = service.add_contact(db(), form, region=current_settings().phone_region, now=current_clock(),
                                      actor=g.actor)
    except InvalidChange as error:
        db().rollback()
        flash(f"Not added: {error}.", "error")
        return _contacts_page(form, 422)
    flash(f"Added {contact.name} ({contact.phone}). Put them in the rotation on the Rotation page.", "ok")
    return redirect(url_for("admin.contacts"))


@bp.get("/contacts/<int(max=2147483647):contact_id>")
@login_required
def edit_contact(contact_id: int) -> str:
    """A contact's edit form."""
    contact = service.get_contact(db(), contact_id)
    form = {"name": contact.name, "phone": contact.phone, "email": contact.email or ""}
    return render_template("oncall/contact.html", contact=contact, form=form)


@bp.post("/contacts/<int(max=2147483647):contact_id>")
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
        return render_template("oncall/contact.html", contact=service.get_contact(db(), contact_id), form=form), 422
    flash(f"Saved {contact.name}.", "ok")
    return redirect(url_for("admin.contacts"))


@bp.post("/contacts/<int(max=2147483647):contact_id>/active")
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
    return redirect(url_for("admin.contacts"))


# ----------------------------------------------------------------------------- rotation


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

    @classmethod
    def of(cls, rotation: Rotation | None, tz: str, now: datetime) -> RotationDraft:
        """The draft that starts from the saved rotation (or an empty weekly one handing off at 09:00)."""
        if rotation is None:
            handoff = now.astimezone(zone(tz)).strftime("%Y-%m-%dT09:00")
            return cls(tz, handoff, "weekly", "", "1", [], "")
        return cls(
            timezone=rotation.timezone,
            handoff=rotation.handoff,
            shift_kind=rotation.shift_kind,
            shift_hours=str(rotation.shift_hours or ""),
            backups=str(rotation.backups),
            members=[m.contact_id for m in rotation.members],
            effective_from="",
        )

    @classmethod
    def from_form(cls, form: Any) -> RotationDraft:
        """The draft the rotation form posted."""
        members = []
        for raw in form.getlist("member"):
            members.append(_whole_number(raw, "a rotation member"))
        handoff = form.get("handoff", "").strip()
        if len(handoff) == 19 and handoff.endswith(":00"):
            handoff = handoff[:16]
        return cls(
            timezone=form.get("timezone", "").strip(),
            handoff=handoff,
            shift_kind=form.get("shift_kind", ""),
            shift_hours=form.get("shift_hours", "").strip(),
            backups=form.get("backups", "").strip(),
            members=members,
            effective_from=form.get("effective_from", "").strip(),
        )

    def starts(self, now: datetime) -> datetime:
        """The instant the draft would take effect: the chosen local time, else now."""
        if not self.effective_from:
            return now
        try:
            tz = zone(self.timezone)
        except InvalidRotation as error:
            raise InvalidChange(str(error)) from None
        return _local_instant(self.effective_from, tz, "the change's start")

    def fields(self, now: datetime) -> dict[str, Any]:
        """The draft as `oncall.service.save_rotation` takes it."""
        if self.shift_kind not in SHIFT_KINDS:
            raise InvalidChange("choose a shift: daily, weekly or a number of hours")
        shift: Any = self.shift_kind
        if self.shift_kind == "hours":
            shift = {"hours": _whole_number(self.shift_hours, "the shift length in hours")}
        fields = {
            "timezone": self.timezone,
            "handoff": self.handoff,
            "shift": shift,
            "members": list(self.members),
            "backups": _whole_number(self.backups, "backups"),
        }
        if self.effective_from:
            fields["effective_from"] = self.starts(now).isoformat()
        return fields

    def apply(self, action: str, new_member: str) -> None:
        """Move a member up or down, remove one, or add one; the draft stays unsaved."""
        verb, _, raw_position = action.partition("-")
        if verb == "add":
            if not new_member:
                raise InvalidChange("choose a contact to add to the rotation")
            contact_id = _whole_number(new_member, "the contact to add")
            if contact_id in self.members:
                raise InvalidChange("that contact is in the rotation already")
            self.members.append(contact_id)
            return
        position = _whole_number(raw_position, "the member's place")
        if position >= len(self.members):
            raise InvalidChange("that member is no longer in the draft; reload the page")
        if verb == "up" and position > 0:
            self.members[position - 1], self.members[position] = self.members[position], self.members[position - 1]
        elif verb == "down" and position + 1 < len(self.members):
            self.members[position + 1], self.members[position] = self.members[position], self.members[position + 1]
        elif verb == "remove":
            del self.members[position]


def _rotation_page(draft: RotationDraft, *, changed: bool, status: int = 200) -> tuple[str, int]:
    now = current_clock()
    contacts = {c.id: c for c in db().scalars(select(Contact).order_by(Contact.name, Contact.id))}
    shifts: list[ShiftSpan] = []
    preview_error = None
    unknown = [m for m in draft.members if m not in contacts]
    try:
        if unknown:
            raise InvalidChange(f"there is no contact {unknown[0]}")
        fields = draft.fields(now)
        start = draft.starts(now)
        end = start + timedelta(days=PREVIEW_DAYS)
        # Ask for more and keep the shifts that start in the window, so the last one is whole.
        shifts = [s for s in service.preview(fields, contacts, start, end + LONGEST_SHIFT) if s.start < end]
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
        contacts=contacts,
        candidates=[c for c in contacts.values() if c.id not in draft.members],
        unusable={c.id for c in contacts.values() if to_e164(c.phone, region) is None},
        shifts=shifts,
        preview_error=preview_error,
        later=later,
        warnings=coverage_warnings(db(), now, settings.fallback_number, region),
        now_local=_local_input(now, home_zone()),
        shift_kinds=SHIFT_KINDS,
    ), status


@bp.get("/rotation")
@login_required
def rotation() -> tuple[str, int]:
    """The rotation in force, as an editable draft with a preview of its next shifts."""
    now = current_clock()
    saved = service.rotation_in_force(db(), now)
    return _rotation_page(RotationDraft.of(saved, current_settings().support_timezone, now), changed=False)


@bp.post("/rotation")
@login_required
def edit_rotation() -> Any:
    """Change the draft (add, remove, move a member, preview) or save it from the chosen instant."""
    action = request.form.get("action", "preview")
    try:
        draft = RotationDraft.from_form(request.form)
    except InvalidChange as error:
        flash(f"{str(error).capitalize()}.", "error")
        return redirect(url_for("admin.rotation"))
    if action != "save":
        status = 200
        if action != "preview":
            try:
                draft.apply(action, request.form.get("new_member", ""))
            except InvalidChange as error:
                flash(f"{str(error).capitalize()}.", "error")
                status = 422
        return _rotation_page(draft, changed=True, status=status)
    try:
        saved = service.save_rotation(db(), draft.fields(current_clock()), now=current_clock(), actor=g.actor)
    except InvalidChange as error:
        db().rollback()
        flash(f"Not saved: {error}.", "error")
        return _rotation_page(draft, changed=True, status=422)
    forget_home_zone()
    flash(Markup("Rotation saved. It applies from {}; who was on duty before stays as it was.").format(
        when(saved.effective_from)), "ok")
    return redirect(url_for("admin.rotation"))


# ----------------------------------------------------------------------------- overrides


def _overrides_page(form: dict[str, str], status: int = 200) -> tuple[str, int]:
    now = current_clock()
    show_past = request.args.get("past") == "1"
    query = select(Override).order_by(Override.start.desc() if show_past else Override.start, Override.id)
    if not show_past:
        query = query.where(Override.end > now)
    overrides = page_of(db(), query, current_page())
    contacts = db().scalars(select(Contact).where(Contact.active).order_by(Contact.name, Contact.id)).all()
    return render_template("oncall/overrides.html", overrides=overrides, contacts=contacts, form=form, now=now,
                           show_past=show_past), status


@bp.get("/overrides")
@login_required
def overrides() -> tuple[str, int]:
    """Current and coming overrides (`?past=1`: all, newest first), with a form to add one."""
    return _overrides_page({"contact_id": request.args.get("contact", ""), "start": "", "end": ""})


@bp.post("/overrides")
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
        start = _local_instant(form["start"], home_zone(), "the start") if form["start"] else now
        override = service.add_override(
            db(),
            {
                "contact_id": _whole_number(form["contact_id"], "the contact"),
                "start": start.isoformat(),
                "end": _local_instant(form["end"], home_zone(), "the end").isoformat(),
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
    return redirect(url_for("admin.overrides"))


@bp.post("/overrides/<int(max=2147483647):override_id>/delete")
@login_required
def delete_override(override_id: int) -> Response:
    """Remove an override: the rotation decides again for its time."""
    service.delete_override(db(), override_id, now=current_clock(), actor=g.actor)
    flash("Override removed: the rotation decides again for that time.", "ok")
    return redirect(url_for("admin.overrides"))


# ----------------------------------------------------------------------------- audit trail


@dataclass(frozen=True)
class AuditChange:
    """One field of an audit entry: its value before and after, and whether it changed."""

    field: str
    before: str
    after: str
    changed: bool


AUDIT_TIME_FIELDS = {"start", "end", "effective_from"}
AUDIT_FIELD_NAMES = {"contact_id": "contact", "effective_from": "takes effect", "why": "why"}


def _audit_value(field: str, value: Any, names: dict[int, str]) -> str:
    if field == "members" and isinstance(value, list):
        return ", ".join(names.get(v, f"contact {v}") for v in value) or "nobody"
    if field == "contact_id" and isinstance(value, int):
        return names.get(value, f"contact {value}")
    if field in AUDIT_TIME_FIELDS and isinstance(value, str):
        try:
            return when(datetime.fromisoformat(value))
        except ValueError:
            return value
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def audit_changes(entry: AuditEntry, names: dict[int, str]) -> list[AuditChange]:
    """The fields an audit entry records, before and after, with contacts by name and times local."""
    before = json.loads(entry.before) if entry.before else {}
    after = json.loads(entry.after) if entry.after else {}
    fields = [f for f in [*before, *(f for f in after if f not in before)] if f != "id"]
    return [
        AuditChange(
            field=AUDIT_FIELD_NAMES.get(f, f),
            before=_audit_value(f, before[f], names) if f in before else "",
            after=_audit_value(f, after[f], names) if f in after else "",
            changed=f in before and f in after and before[f] != after[f],
        )
        for f in fields
    ]


@bp.get("/audit")
@login_required
def audit_trail() -> str:
    """Every change to contacts, the rotation and overrides: who, when, before and after, newest first."""
    entries = page_of(db(), select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()), current_page())
    names = dict(db().execute(select(Contact.id, Contact.name)).all())
    return render_template("oncall/audit.html", entries=entries,
                           changes={e.id: audit_changes(e, names) for e in entries.items},
                           total=db().scalar(select(func.count()).select_from(AuditEntry)))

