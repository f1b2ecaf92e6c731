"""Reading one message: who sent it, what it replies to, whether a person wrote it, and what is new in it.

Plain Python over the standard `email` package (`policy.default`), with maintained libraries for
what they already do: bounces (`flufl.bounce`), quoted history (`mail-parser-reply`) and HTML
(`inscriptis`). Nothing here touches the database; a malformed message still reads as far as
it goes, and never raises.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

from flufl.bounce import all_failures
from inscriptis import get_text
from mailparser_reply import EmailReplyParser

from tickets.sla import Severity

# The words that name a severity in a subject or a body, most severe first: one table.
SEVERITY_WORDS: dict[Severity, tuple[str, ...]] = {
    Severity.CRITICAL: ("critical", "sev 1", "sev1", "severity 1", "p1", "urgent", "emergency", "outage"),
    Severity.HIGH: ("high", "sev 2", "sev2", "severity 2", "p2", "major"),
    Severity.NORMAL: ("normal", "sev 3", "sev3", "severity 3", "p3"),
    Severity.LOW: ("low", "sev 4", "sev4", "severity 4", "p4", "minor", "question"),
}
_SEVERITY_PATTERNS = [(severity, re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.I))
                      for severity, words in SEVERITY_WORDS.items()]
# "[#10042]" in a subject names the ticket a message is about.
TICKET_TAG = re.compile(r"\[#(\d{1,9})\]")
# Quoted-reply languages mail-parser-reply recognises in the messages the line gets.
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl"]
MAILER_DAEMONS = frozenset({"mailer-daemon", "postmaster"})
LARGEST_BOUNCE = 2_000_000
LONGEST_SUBJECT = 200


@dataclass(frozen=True)
class Part:
    """An attachment as it came."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ReadMessage:
    """What the line needs of one message."""

    message_id: str | None
    sender: str | None  # the From address, in lower case
    sender_name: str | None
    addresses: list[str]  # From, To and Cc, lower case, without repeats
    subject: str
    ticket_tag: int | None
    references: list[str]  # In-Reply-To, then References: the messages it answers
    automatic: str | None  # why no person wrote it (an auto-reply, a bounce, a list), or None
    text: str  # what is new in it: quoted history and signatures left out
    attachments: list[Part] = field(default_factory=list)
    severity: Severity = Severity.NORMAL
    severity_named: bool = False


def message_key(raw: bytes) -> tuple[str, str | None]:
    """The key that makes one message file once (SHA-256 of its Message-ID, else of its bytes) and its Message-ID."""
    message_id = _message_id(_headers(raw).get("Message-ID"))
    return hashlib.sha256((message_id or "").encode() or raw).hexdigest(), message_id


def _headers(raw: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)  # type: ignore[return-value]


def _message_id(value: object) -> str | None:
    """A Message-ID's `<…>` form; None for a missing or empty one."""
    text = _header_text(value).strip()
    found = re.search(r"<[^<>\s]+>", text)
    return found.group(0) if found else (f"<{text}>" if text and " " not in text else None)


def _header_text(value: object) -> str:
    """A header's value as text, whatever a malformed one turned into."""
    try:
        return str(value) if value is not None else ""
    except Exception:  # noqa: BLE001 - a header the parser kept as a defect still has its raw text
        return getattr(value, "_value", "") or ""


def _get(message: EmailMessage, name: str) -> str:
    try:
        return _header_text(message.get(name))
    except Exception:  # noqa: BLE001 - the email package raises on some malformed headers only when asked
        return ""


def _references(message: EmailMessage) -> list[str]:
    found: list[str] = []
    for name in ("In-Reply-To", "References"):
        for reference in re.findall(r"<[^<>\s]+>", _get(message, name)):
            if reference not in found:
                found.append(reference)
    return found


def _addresses(message: EmailMessage) -> list[str]:
    pairs = getaddresses([_get(message, name) for name in ("From", "To", "Cc")])
    seen: list[str] = []
    for _, address in pairs:
        address = address.strip().lower()
        if "@" in address and address not in seen:
            seen.append(address)
    return seen


def automatic_reason(message: EmailMessage, sender: str | None, support_address: str | None,
                     size: int = 0) -> str | None:
    """Why no person wrote this (RFC 3834 and the list and bounce headers), or None for a person's message."""
    auto_submitted = _get(message, "Auto-Submitted").strip()
    if auto_submitted and auto_submitted.split(";")[0].strip().lower() != "no":
        return f"automatic (Auto-Submitted: {auto_submitted})"
    precedence = _get(message, "Precedence").strip().lower()
    if precedence in {"bulk", "junk", "list"}:
        return f"bulk (Precedence: {precedence})"
    if _get(message, "List-Id"):
        return "a mailing list's message (List-Id)"
    # The bounce detectors read every part: seconds on a message with large attachments. A bounce of
    # the line's own mail (never with attachments) is small, so larger messages are not scanned.
    if message.get_content_type() == "multipart/report" or (size <= LARGEST_BOUNCE and _bounced(message)):
        return "a delivery status notification (a bounce)"
    local = (sender or "").partition("@")[0]
    if local in MAILER_DAEMONS:
        return f"from {sender}, a mailer daemon"
    if _get(message, "X-Autoreply") or _get(message, "X-Autorespond"):
        return "automatic (an auto-responder's header)"
    if sender and support_address and sender == support_address.lower():
        return "from the support address itself (a loop)"
    return None


def _bounced(message: EmailMessage) -> bool:
    try:
        temporary, permanent = all_failures(message)
    except Exception:  # noqa: BLE001 - a detector tripping over a malformed message does not make it a bounce
        return False
    return bool(temporary or permanent)


def _body_text(message: EmailMessage) -> str:
    """The message's text: its plain part, else its HTML part as text."""
    try:
        body = message.get_body(preferencelist=("plain", "html"))
    except Exception:  # noqa: BLE001
        body = None
    if body is None:
        return ""
    try:
        content = body.get_content()
    except (LookupError, UnicodeError, ValueError):  # an unknown or lying charset: read what decodes
        payload = body.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else str(payload)
    if not isinstance(content, str):
        return ""
    return get_text(content) if body.get_content_type() == "text/html" else content


def new_part(text: str) -> str:
    """What is new in a reply: the quoted history and signature left out (all of it, when that leaves nothing)."""
    text = text.replace("\r\n", "\n").strip()
    if not text:
        return ""
    try:
        reply = EmailReplyParser(languages=REPLY_LANGUAGES).parse_reply(text=text)
    except Exception:  # noqa: BLE001 - better the whole text than none
        return text
    return (reply or "").strip() or text


def _attachments(message: EmailMessage) -> list[Part]:
    found = []
    for number, part in enumerate(message.iter_attachments(), 1):
        try:
            content = part.get_content()
        except Exception:  # noqa: BLE001 - keep the bytes as they came
            content = part.get_payload(decode=True) or b""
        data = content.encode() if isinstance(content, str) else bytes(content) if isinstance(content, bytes) else b""
        if isinstance(content, EmailMessage):
            data = content.as_bytes()
        name = part.get_filename() or f"attachment-{number}"
        found.append(Part(filename=name[:255], content_type=part.get_content_type()[:127], data=data))
    return found


def named_severity(subject: str, text: str) -> Severity | None:
    """The severity a subject names (else the text): the most severe one named there, or None."""
    for place in (subject, text):
        for severity, pattern in _SEVERITY_PATTERNS:
            if pattern.search(place):
                return severity
    return None


def read_message(raw: bytes, *, support_address: str | None) -> ReadMessage:
    """Read `raw` (RFC 5322 bytes) as far as it goes: a malformed message gives what could be read."""
    message: EmailMessage = BytesParser(policy=policy.default).parsebytes(raw)  # type: ignore[assignment]
    name, address = parseaddr(_get(message, "From"))
    sender = address.strip().lower() or None
    if sender and "@" not in sender:
        sender = None
    subject = " ".join(_get(message, "Subject").split())
    tag = TICKET_TAG.search(subject)
    is_multipart = message.is_multipart()
    text = new_part(_body_text(message))
    severity = named_severity(subject, text)
    return ReadMessage(
        message_id=_message_id(message.get("Message-ID")),
        sender=sender,
        sender_name=name.strip() or None,
        addresses=_addresses(message),
        subject=" ".join(TICKET_TAG.sub("", subject).split())[:LONGEST_SUBJECT],
        ticket_tag=int(tag.group(1)) if tag else None,
        references=_references(message),
        automatic=automatic_reason(message, sender, support_address, len(raw)),
        text=text,
        attachments=_attachments(message) if is_multipart else [],
        severity=severity or Severity.NORMAL,
        severity_named=severity is not None,
    )


def display_name(read: ReadMessage) -> str:
    """A name for an unknown sender: the From header's name, else their address's local part."""
    if read.sender_name:
        return read.sender_name[:120]
    return (read.sender or "unknown sender").partition("@")[0][:120]

