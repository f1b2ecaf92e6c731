"""The audit trail: who changed what, when, from what to what; written with the change itself."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import g
from sqlalchemy.orm import Session

from staff.models import AuditEntry


def audit(session: Session, *, at: datetime, actor: str, action: str, subject: str,
          before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    """Record a change (committed with the change, by the service that makes it)."""
    session.add(
        AuditEntry(
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            before=json.dumps(before, default=str) if before is not None else None,
            after=json.dumps(after, default=str) if after is not None else None,
        )
    )


def current_actor() -> str:
    """Who is making this request: `admin:<name>`, `api:<token name>` or `cli`."""
    return g.get("actor", "cli")
