"""The portal in a real browser (Debian's Chromium, as the admin tests): a customer signs in by the
link the line mails (read from the test's SMTP server), logs a ticket with a file, follows and
comments on it, an engineer resolves it on the admin page, the customer confirms and rates it; a
partner files for a customer it manages. Every page passes axe-core at 390 px and 1280 px, and the
screenshots land with the others in `test-artifacts/`."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.browsing import DESKTOP, PORTAL_PHONE, axe_violations, screenshot
from tests.portal.conftest import SUPPORT, Cast
from tests.support import PASSWORD, USERNAME, FakeClock, Outgoing
from tickets import service
from tickets.links import rating_token
from tickets.models import Ticket
from tickets.outbox import ConsoleSender, SmtpSender
from tickets.worker import run_once


@pytest.fixture
def app(make_app: Callable[..., Flask], outgoing: tuple[Outgoing, str]) -> Flask:
    """The line sending its mail to the test's SMTP server; links name the address the browser used."""
    return make_app(MAIL_FROM=SUPPORT, MAIL_SMTP_URL=outgoing[1])


@pytest.fixture
def mailbox(app: Flask, outgoing: tuple[Outgoing, str]) -> Callable[[str], str]:
    """Run the worker's round (it sends the outbox) and give the newest mail's text to an address."""
    server, url = outgoing

    def newest_to(address: str, about: str = "sign-in link") -> str:
        with app.app_context():
            run_once(ConsoleSender(lambda _: None), SmtpSender(url))
        mails = [m.get_content() for m in server.received if address in m["To"] and about in m["Subject"]]
        assert mails, f"no mail to {address} about {about!r}; the server has {[m['To'] for m in server.received]}"
        return mails[-1]

    return newest_to


def _sign_in(page: Any, address: str, mailbox: Callable[[str], str], found: dict[str, list[str]] | None = None) -> None:
    page.goto("/support")
    page.fill("#email", address)
    page.press("#email", "Enter")  # the keyboard sends the form
    assert "a sign-in link is on its way" in page.inner_text("main")
    if found is not None:
        _accessible(page, "01b-link-sent", found)
    link = re.search(r"http://127\.0\.0\.1:\d+(/support/sign-in/\S+)", mailbox(address))
    assert link, "the mail carries the link"
    page.goto(link.group(1))
    page.click("button:has-text('Sign in')")
    assert page.url.endswith("/support/tickets")


def _accessible(page: Any, name: str, found: dict[str, list[str]]) -> None:
    """Check the page as it stands with axe-core at 390 px and 1280 px, with a screenshot at each."""
    for viewport, size in ((PORTAL_PHONE, "390"), (DESKTOP, "1280")):
        page.set_viewport_size(viewport)
        found[f"{name} at {size} px"] = axe_violations(page)
        screenshot(page, f"portal-{name}-{size}")
    page.set_viewport_size(PORTAL_PHONE)


def _fits(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PORTAL_PHONE["width"], f"{page.url} is {width} px wide on a {PORTAL_PHONE['width']} px phone"


def test_a_customer_logs_follows_confirms_and_rates_a_ticket(open_page, cast: Cast, mailbox, session: Session,
                                                              clock: FakeClock) -> None:
    found: dict[str, list[str]] = {}
    page = open_page(PORTAL_PHONE, inject=True)
    page.goto("/support")
    _accessible(page, "01-sign-in", found)
    _sign_in(page, "lena@acme.example", mailbox, found)
    _accessible(page, "02-my-tickets-empty", found)

    page.click("nav >> text=Log a request")
    _accessible(page, "03-new-request", found)
    page.check("#severity-high")
    page.fill("#subject", "Exports fail at 99 %")
    page.fill("#description", "Every CSV export stops at 99 % since this morning's update.")
    page.fill("#callback_number", "555")
    page.set_input_files("#files", files=[{"name": "export.log", "mimeType": "text/plain",
                                           "buffer": b"2026-11-26 03:01 export aborted at row 9,900\n"}])
    page.click("button:has-text('Log the request')")
    assert page.locator("#callback_number").get_attribute("aria-invalid") == "true"
    assert "not a valid phone number" in page.inner_text("#callback_number-error")
    _accessible(page, "04-new-request-refused", found)
    page.fill("#callback_number", "(212) 555-0147")
    page.set_input_files("#files", files=[{"name": "export.log", "mimeType": "text/plain",
                                           "buffer": b"2026-11-26 03:01 export aborted at row 9,900\n"}])
    page.click("button:has-text('Log the request')")
    assert page.inner_text("#ticket-number") == "10001"
    assert "support responds within 6 hours" in page.inner_text("main")
    _accessible(page, "05-logged", found)

    page.click("nav >> text=My tickets")
    assert "Exports fail at 99 %" in page.inner_text("table")
    _fits(page)
    _accessible(page, "06-my-tickets", found)
    page.click("a:has-text('10001')")
    assert "export.log" in page.inner_text("#conversation")
    page.fill("#body", "It also happens with the JSON export.")
    page.click("#comment button:has-text('Send')")
    assert "Your comment is on the ticket." in page.inner_text(".flash-ok")
    assert "It also happens with the JSON export." in page.inner_text("#conversation")
    _fits(page)
    _accessible(page, "07-ticket", found)

    # The engineer resolves it on the admin page.
    engineer = open_page(DESKTOP)
    engineer.goto("/admin/tickets/10001")
    engineer.fill("#username", USERNAME)
    engineer.fill("#password", PASSWORD)
    engineer.click("button:has-text('Log in')")
    engineer.click("button:has-text('Resolve')")
    assert "resolved" in engineer.inner_text("h1")

    page.reload()
    assert "Is it resolved for you?" in page.inner_text("#resolution")
    _accessible(page, "08-ticket-resolved", found)
    page.click("button:has-text('Yes, it is resolved')")
    assert page.inner_text("#status") == "closed"
    page.check("#answer-yes")
    page.fill("#remark", "Quick and clear, thank you.")
    page.click("button:has-text('Send my answer')")
    assert "yes: Quick and clear, thank you." in page.inner_text("#satisfaction")
    _accessible(page, "09-ticket-rated", found)
    assert {name: v for name, v in found.items() if v} == {}


def test_a_partner_files_for_a_customer_it_manages(open_page, cast: Cast, mailbox) -> None:
    found: dict[str, list[str]] = {}
    page = open_page(DESKTOP, inject=True)
    _sign_in(page, "nina@northwind.example", mailbox)
    page.click("nav >> text=Log a request")
    page.select_option("#organization_id", label="Acme Corp")
    page.check("#severity-normal")
    page.fill("#subject", "Acme's agents stopped reporting")
    page.fill("#description", "Since 02:00 no agent of Acme's has checked in.")
    page.click("button:has-text('Log the request')")
    assert page.inner_text("#ticket-number") == "10001"
    page.click("nav >> text=My tickets")
    row = page.inner_text("tbody tr")
    assert "Acme's agents stopped reporting" in row and "Acme Corp" in row
    _accessible(page, "10-partner-tickets", found)
    assert {name: v for name, v in found.items() if v} == {}


def test_a_visitor_logs_a_request_then_answers_by_the_mailed_link(open_page, cast: Cast, mailbox,
                                                                     session: Session, clock: FakeClock) -> None:
    found: dict[str, list[str]] = {}
    page = open_page(PORTAL_PHONE, inject=True)
    page.goto("/support/new")
    page.fill("#name", "Rosa Diaz")
    page.fill("#email", "rosa@initech.example")
    page.check("#severity-low")
    page.fill("#subject", "How do I export to PDF?")
    page.fill("#description", "Is there a way?")
    page.click("button:has-text('Log the request')")
    assert "mailed to rosa@initech.example" in page.inner_text("main")
    _accessible(page, "11-logged-by-a-visitor", found)
    link = re.search(r"http://127\.0\.0\.1:\d+(/support/sign-in/\S+)", mailbox("rosa@initech.example")).group(1)
    page.goto(link)
    _accessible(page, "12-confirm-sign-in", found)
    page.click("button:has-text('Sign in')")
    page.goto("/support/tickets/10099")
    _accessible(page, "13-not-found", found)

    # The one-click answer from the resolution mail, and its thank-you page.
    service.resolve_ticket(session, "10001", now=clock.now, actor="admin:maria")
    ticket = session.scalar(select(Ticket).where(Ticket.number == 10001))
    page.goto(f"/support/rate/{rating_token('test-secret-key', ticket, 'yes', clock.now)}")
    _accessible(page, "14-rate-by-link", found)
    page.click("button:has-text('Send my answer')")
    assert "resolved to your satisfaction: yes" in page.inner_text("main")
    _accessible(page, "15-rated", found)
    assert {name: v for name, v in found.items() if v} == {}

