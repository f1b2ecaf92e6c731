"""The local spool: what callers said while the database was out of reach, kept on disk until it is back.

Each entry is one JSON file, written atomically (temporary file, then rename) and named
so that sorting the names replays entries in the order they came.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ivr import live_call
from ivr.calls import Line, answer_call, close_call, open_ticket_for_call, take_keys, whole_seconds
from ivr.flow import CallerInput, Step
from tickets import records

log = logging.getLogger(__name__)

# Parameters worth keeping from a request; the rest of Twilio's form is noise.
KEPT_PARAMS = (
    "CallSid", "From", "To", "CallerName", "Digits", "SpeechResult", "RecordingUrl", "RecordingDuration",
    "TranscriptionText", "TranscriptionStatus", "DialCallStatus", "CallStatus", "CallDuration", "ErrorCode",
)


def spool_request(spool_dir: Path, kind: str, path: str, params: dict[str, str], now: datetime) -> Path:
    """Keep a request on disk. Never touches the database, so it works while it is down."""
    spool_dir.mkdir(parents=True, exist_ok=True)
    entry = {
        "kind": kind,
        "at": now.isoformat(),
        "path": path,
        "params": {k: str(params[k])[:2000] for k in KEPT_PARAMS if k in params},
    }
    # Named by the host's real clock in nanoseconds, so sorting names replays in arrival order.
    name = f"{time.time_ns():020d}-{uuid.uuid4().hex}.json"
    temporary = spool_dir / f".{name}.tmp"
    temporary.write_text(json.dumps(entry))
    os.replace(temporary, spool_dir / name)
    return spool_dir / name


def spooled_entries(spool_dir: Path) -> list[Path]:
    """The entries waiting, oldest first."""
    if not spool_dir.is_dir():
        return []
    return sorted(spool_dir.glob("*.json"))


def _stale_claims(spool_dir: Path, now: float) -> list[Path]:
    # A claim older than this belongs to a process that died half-way.
    return sorted(p for p in spool_dir.glob("*.claimed") if now - p.stat().st_mtime > STALE_CLAIM_SECONDS)


STALE_CLAIM_SECONDS = 600


def replay_spool(session: Session, spool_dir: Path, line: Line, limit: int | None = None) -> int:
    """Move spooled entries into the call log and tickets; returns how many were replayed.

    Each entry is claimed by renaming it (atomic, so two processes never replay the
    same one), committed, then deleted; a crash half-way leaves a claim that a later
    run takes over after `STALE_CLAIM_SECONDS`. Calls and tickets are keyed by CallSid,
    so replaying an entry again changes nothing twice.
    """
    if not spool_dir.is_dir():
        return 0
    replayed = 0
    for path in _stale_claims(spool_dir, time.time()) + spooled_entries(spool_dir):
        if limit is not None and replayed >= limit:
            break
        entry_name = path.name.split(".")[0]
        claimed = spool_dir / f"{entry_name}.{uuid.uuid4().hex[:8]}.claimed"
        try:
            os.replace(path, claimed)  # atomic: of two processes, one wins
        except FileNotFoundError:
            continue  # another process took it
        os.utime(claimed)  # the claim's age counts from now, not from when the entry was spooled
        try:
            _replay(session, json.loads(claimed.read_text()), line)
            session.commit()
        except OperationalError:
            # The database is (still) unreachable: keep the entry for the next run.
            session.rollback()
            os.replace(claimed, spool_dir / f"{entry_name}.json")
            raise
        except Exception:
            # Anything else would fail again every time and hold up the entries behind it.
            session.rollback()
            log.exception("spool entry %s cannot be replayed; set aside as %s.bad", claimed.name, entry_name)
            os.replace(claimed, spool_dir / f"{entry_name}.bad")
            continue
        claimed.unlink()
        replayed += 1
    return replayed


def _replay(session: Session, entry: dict[str, Any], line: Line) -> None:
    params: dict[str, str] = entry.get("params", {})
    at = datetime.fromisoformat(entry["at"])
    call_sid = params.get("CallSid") or f"spooled-{uuid.uuid4().hex}"
    call = live_call.find(session, call_sid) or answer_call(
        session,
        call_sid=call_sid,
        from_number=params.get("From"),
        to_number=params.get("To"),
        caller_name=params.get("CallerName"),
        now=at,
        line=line,
    )
    kind = entry.get("kind", "")
    path = entry.get("path", "")
    detail = ", ".join(f"{k}={v}" for k, v in params.items() if k != "CallSid")
    call.log(at, f"spooled_{kind}"[:32], f"kept while the database was unreachable: {path} {detail}")
    if kind == "voicemail" and params.get("RecordingUrl"):
        ticket = open_ticket_for_call(session, call, at, line, abandoned=True)
        records.attach_recording(ticket, at, params["RecordingUrl"], whole_seconds(params.get("RecordingDuration")))
        records.note(ticket, at, "spooled", "voicemail left while the line's database was unreachable")
        call.outcome = "voicemail"
        call.step = Step.VOICEMAIL_DONE
    elif kind == "transcript" and params.get("TranscriptionText"):
        ticket = open_ticket_for_call(session, call, at, line, abandoned=True)
        records.attach_transcript(ticket, at, params["TranscriptionText"])
    elif kind == "fallback_dial":
        call.outcome = call.outcome or "fallback"
    elif path.startswith("/ivr/gather"):
        # The caller's keys at a menu: apply them if the call is still where they were pressed.
        query = parse_qs(urlsplit(path).query)
        take_keys(
            session,
            call,
            step=query.get("step", [None])[0],
            seq=query.get("n", [None])[0],
            said=CallerInput(digits=params.get("Digits"), speech=params.get("SpeechResult")),
            now=at,
            line=line,
        )
    elif path.startswith("/ivr/status"):
        live_call.save(session, call)  # close_call reads the call afresh
        close_call(
            session,
            call_sid=call.call_sid,
            call_status=params.get("CallStatus") or "completed",
            duration=whole_seconds(params.get("CallDuration")),
            from_number=params.get("From"),
            to_number=params.get("To"),
            now=at,
            line=line,
        )
    live_call.save(session, call)
