"""The audit trail page: every change to contacts, the rotation and overrides, with contacts by name."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import render_template
from sqlalchemy import func, select

from core.db import db
from oncall.models import Contact
from staff.admins import login_required
from staff.models import AuditEntry
from web.pages import current_page, page_of, when


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


@login_required
def audit_trail() -> str:
    """Every change to contacts, the rotation and overrides: who, when, before and after, newest first."""
    entries = page_of(db(), select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()), current_page())
    names = dict(db().execute(select(Contact.id, Contact.name)).all())
    return render_template("oncall/audit.html", entries=entries,
                           changes={e.id: audit_changes(e, names) for e in entries.items},
                           total=db().scalar(select(func.count()).select_from(AuditEntry)))
