"""The links the line's mail carries to the customer portal: a ticket's page, and the one-click answers
to "was it resolved to your satisfaction?".

A ticket's page is a plain address (the portal asks whoever opens it to sign in). A satisfaction link
needs no sign-in for its one answer, so it is signed with `SECRET_KEY` (`itsdangerous`), names the
ticket, its requester and the resolution it asks about, and stops working when the ticket is
reopened (resolved again, it is asked again) or after RATING_LINK_VALIDITY. Its age is measured with
the line's clock, written into the link, so it holds under the tests' fake clock too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from itsdangerous import BadSignature, URLSafeSerializer

from tickets.models import SATISFACTION_ANSWERS, Ticket

PORTAL_PATH = "/support"
RATING_LINK_VALIDITY = timedelta(days=30)
_RATING_SALT = "support-line satisfaction"


def ticket_page_url(base: str, number: int) -> str:
    """The ticket's page on the portal, under the line's public address `base`."""
    return f"{base}{PORTAL_PATH}/tickets/{number}"


def rating_url(base: str, secret: str, ticket: Ticket, answer: str, now: datetime) -> str:
    """The link that answers `answer` ("yes" or "no") for the ticket's requester."""
    return f"{base}{PORTAL_PATH}/rate/{rating_token(secret, ticket, answer, now)}"


def rating_token(secret: str, ticket: Ticket, answer: str, now: datetime) -> str:
    """A signed answer for one resolution of one ticket, by its requester."""
    if answer not in SATISFACTION_ANSWERS or ticket.resolved_at is None or ticket.requester_id is None:
        raise ValueError("a satisfaction link answers yes or no about a resolved ticket with a requester")
    payload = [ticket.number, ticket.requester_id, answer, int(ticket.resolved_at.timestamp()), int(now.timestamp())]
    return URLSafeSerializer(secret, salt=_RATING_SALT).dumps(payload)


@dataclass(frozen=True)
class RatingLink:
    """What a satisfaction link says: which ticket, whose answer, which answer, about which resolution."""

    ticket_number: int
    requester_id: int
    answer: str
    resolved_at: int  # the resolution's time, in whole seconds since the epoch

    def still_asks(self, ticket: Ticket) -> bool:
        """Whether `ticket` is still in the resolution this link asks about."""
        return (ticket.number == self.ticket_number and ticket.requester_id == self.requester_id
                and ticket.status in ("resolved", "closed") and ticket.resolved_at is not None
                and int(ticket.resolved_at.timestamp()) == self.resolved_at)


def read_rating_token(secret: str, token: str, now: datetime) -> RatingLink | None:
    """The answer a satisfaction link carries, or None for a forged, garbled or expired one."""
    try:
        payload = URLSafeSerializer(secret, salt=_RATING_SALT).loads(token)
    except (BadSignature, UnicodeDecodeError, ValueError):
        return None
    if not (isinstance(payload, list) and len(payload) == 5 and all(isinstance(v, int) for v in payload[:2])
            and payload[2] in SATISFACTION_ANSWERS and all(isinstance(v, int) for v in payload[3:])):
        return None
    issued = datetime.fromtimestamp(payload[4], timezone.utc)
    if not issued - timedelta(minutes=5) <= now <= issued + RATING_LINK_VALIDITY:
        return None
    return RatingLink(payload[0], payload[1], payload[2], payload[3])
