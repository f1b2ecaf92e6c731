"""The admin pages in a real browser: headless Chromium (Debian's) driven by Playwright.

The app runs in a thread on 127.0.0.1 with CSRF protection on, as in production, and
the tests click through it as the support manager would. Screenshots land in
`test-artifacts/` (gitignored) for a person to look at.

Without `/usr/bin/chromium` or the `playwright` package these tests are skipped with
the reason, except under CI (the `CI` environment variable is set), where a missing
browser is a failure: CI installs Chromium and must run them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from ivr.models import CallEvent, CallLog
from people import service as people_service
from phonesim import HttpTransport, send_sms
from tests.browsing import DESKTOP, PHONE, axe_violations, screenshot
from tests.support import AUTH_TOKEN, PASSWORD, PRIYA, SUPPORT_NUMBER, USERNAME, FakeClock, Team, add_override
from tests.tickets.seeded_month import READ_AT, add_desk, seed_november
from tickets.models import Ticket, TicketEvent

def log_in(page: Any, password: str = PASSWORD) -> None:
    page.goto("/admin/")
    page.fill("#username", USERNAME)
    page.fill("#password", password)
    page.click("button:has-text('Log in')")


def on_duty(page: Any) -> str:
    page.goto("/admin/")
    return " ".join(page.inner_text("#on-duty").split())


def test_the_manager_adds_a_contact_reorders_the_rotation_and_covers_a_shift(open_page, clock) -> None:
    page = open_page()
    log_in(page)
    assert page.url.endswith("/admin/")
    assert "Priya Raman" in on_duty(page)
    assert "Tom Berg" in page.inner_text("#next")
    screenshot(page, "01-oncall-desktop")

    # A bad number is refused with a message that says what to type; then the right one.
    page.click("nav >> text=Contacts")
    page.fill("#name", "Kenji Watanabe")
    page.fill("#phone", "555-01")
    page.click("button:has-text('Add contact')")
    assert "is not a valid phone number: give it in E.164" in page.inner_text(".flash-error")
    screenshot(page, "02-contact-bad-number")
    page.fill("#phone", "(415) 555-0104")
    page.click("button:has-text('Add contact')")
    assert "Added Kenji Watanabe (+14155550104)" in page.inner_text(".flash-ok")
    assert "Kenji Watanabe" in page.inner_text("table")

    # Ana moves up before Tom and Kenji joins at the end; nothing is saved until Save.
    page.click("nav >> text=Rotation")
    page.click("button[aria-label='Move Ana Souza up']")
    assert "Draft: nothing is saved" in page.inner_text("main")
    page.select_option("#new_member", label="Kenji Watanabe")
    page.click("button[value='add']")
    # The form posts and a new page loads: wait for it, not for the page being left.
    page.locator(".member-name", has_text="Kenji Watanabe").wait_for()
    names = [" ".join(n.split()) for n in page.locator(".member-name").all_inner_texts()]
    assert names == ["Priya Raman", "Ana Souza", "Tom Berg", "Kenji Watanabe"]
    assert "Ana Souza" in page.inner_text("#preview")
    screenshot(page, "03-rotation-draft")
    page.click("button:has-text('Save rotation')")
    assert "Rotation saved" in page.inner_text(".flash-ok")
    assert "Priya Raman" in on_duty(page)
    assert "Ana Souza" in page.inner_text("#next")

    # "Priya is sick, Tom covers until Thursday 09:00."
    page.click("nav >> text=Overrides")
    page.select_option("#contact_id", label="Tom Berg")
    page.fill("#end", "2026-11-26T09:00")
    page.click("button:has-text('Add override')")
    assert "Tom Berg covers from" in page.inner_text(".flash-ok")
    panel = on_duty(page)
    assert "Tom Berg override" in panel and "Thu 26 Nov, 09:00 EST" in panel
    assert "Priya Raman" in page.inner_text("#next")
    screenshot(page, "04-oncall-with-override")

    # An hour later Priya is back: Tom's cover ends now, and the hour he covered stays on record.
    clock.advance(hours=1)
    page.click("nav >> text=Overrides")
    assert page.locator("button[aria-label='Remove Tom Berg\\'s override']").count() == 0
    page.click("button[aria-label='End Tom Berg\\'s override now']")
    assert "Tom Berg's override ended at Wed 25 Nov, 23:00 EST" in page.inner_text(".flash-ok")
    page.click("nav >> text=On call")
    assert "Priya Raman" in on_duty(page) and "override" not in on_duty(page)

    page.click("nav >> text=Audit")
    trail = page.inner_text("main")
    for action in ("contact.created", "rotation.saved", "override.created", "override.ended"):
        assert action in trail
    assert "admin:maria" in trail
    screenshot(page, "05-audit")

    page.click("button:has-text('Log out')")
    assert "You are logged out." in page.inner_text("main")
    page.goto("/admin/contacts")
    assert "/admin/login" in page.url


@pytest.mark.parametrize(("viewport", "size"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_emptying_the_rotation_is_not_saved_until_the_manager_confirms(open_page, session: Session, viewport,
                                                                      size) -> None:
    page = open_page(viewport)
    log_in(page)
    page.goto("/admin/rotation")
    for _ in range(3):
        page.locator("button[aria-label^='Remove ']").first.click()
    page.check("input[name='takes_effect'][value='now']")
    page.click("button:has-text('Save rotation')")
    warning = page.inner_text("#confirm")
    assert "Nobody on this rotation can be on duty: callers go to voicemail." in warning
    screenshot(page, f"09-rotation-confirm-empty-{size}")
    page.click("button:has-text('Keep editing')")
    page.goto("/admin/")
    assert "Priya Raman" in on_duty(page), "nothing was saved"


def test_a_reorder_saved_now_keeps_the_person_on_duty(open_page) -> None:
    page = open_page()
    log_in(page)
    page.goto("/admin/rotation")
    page.click("button[aria-label='Move Ana Souza up']")
    page.click("button[aria-label='Move Ana Souza up']")
    page.check("input[name='takes_effect'][value='now']")
    page.click("button:has-text('Save rotation')")
    assert "Rotation saved" in page.inner_text(".flash-ok"), "keeping the person on duty needs no confirmation"
    panel = on_duty(page)
    assert "Priya Raman override" in panel, "Priya keeps the week in progress (Ana's, in the new order)"
    assert "On duty until Mon 07 Dec, 09:00 EST" in panel, "and her own week of the new order follows it"


@pytest.mark.parametrize(("viewport", "size"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_with_two_overlapping_overrides_the_panel_the_api_and_oncall_agree_with_the_router(
    open_page, line: str, team: Team, session: Session, clock: FakeClock, viewport, size
) -> None:
    from ivr.calls import routing_targets
    from oncall.service import duty_at
    from staff.tokens import issue_api_token
    from tests.oncall.test_outlook import ANA_FROM, ANA_UNTIL, FIVE_INSTANTS, NEW_YORK, TOM_UNTIL

    add_override(session, team.tom, clock.now, TOM_UNTIL)
    add_override(session, team.ana, ANA_FROM, ANA_UNTIL)
    token = issue_api_token(session, "browser", clock.now)
    session.commit()
    page = open_page(viewport)
    log_in(page)
    for instant, (at, name, _, _, until, then, _) in enumerate(FIVE_INSTANTS, 1):
        clock.set(at)
        assert routing_targets(duty_at(session, at), None)[0]["name"] == name, "the router rings them first"
        page.goto("/admin/")
        panel = " ".join(page.inner_text("main").split())
        assert f"On duty {name}" in panel and f"Next {then}" in panel
        assert f"On duty until {until.astimezone(NEW_YORK):%a %d %b, %H:%M}" in panel
        api = page.request.get("/api/oncall", headers={"Authorization": f"Bearer {token}"}).json()
        assert (api["on_duty"]["name"], api["shift_end"], api["next"]["name"]) == (name, until.isoformat(), then)
        _, replies = send_sms(sms_url=f"{line}/sms", auth_token=AUTH_TOKEN, transport=HttpTransport(),
                              from_number=PRIYA, to_number=SUPPORT_NUMBER, body="ONCALL")
        assert replies[0].startswith(f"On duty: {name} (") and replies[0].endswith(f"Next: {then}.")
        screenshot(page, f"10-oncall-overlapping-{instant}-{size}")
    clock.set(FIVE_INSTANTS[0][0])
    page.goto("/admin/overrides")
    assert "Ana Souza's wins there (it starts later)" in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    screenshot(page, f"10-overrides-overlapping-{size}")


@pytest.mark.parametrize(("viewport", "size"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_ending_an_override_in_progress_keeps_its_hours_on_record(open_page, team: Team, session: Session,
                                                                 clock: FakeClock, viewport, size) -> None:
    add_override(session, team.tom, clock.now - timedelta(hours=2), clock.now + timedelta(days=2))
    session.commit()
    page = open_page(viewport)
    log_in(page)
    assert "Tom Berg" in on_duty(page)
    page.goto("/admin/overrides")
    assert page.locator("button:has-text('Remove…')").count() == 0, "an override in progress cannot be removed"
    page.click("button[aria-label=\"End Tom Berg's override now\"]")
    assert "Tom Berg's override ended at Wed 25 Nov, 22:00 EST" in page.inner_text(".flash-ok")
    screenshot(page, f"11-override-ended-{size}")
    assert "Priya Raman" in on_duty(page), "the rotation decides from then"
    page.goto("/admin/overrides?past=1")
    row = page.locator("tr", has_text="Tom Berg")
    assert "Wed 25 Nov, 20:00 EST" in row.inner_text(), "the two hours it covered stay on record"
    screenshot(page, f"11-overrides-past-{size}")


def test_a_wrong_password_is_refused_in_the_browser(open_page) -> None:
    page = open_page()
    log_in(page, password="not the password")
    assert "/admin/login" in page.url
    assert "Wrong username or password" in page.inner_text(".flash-error")
    screenshot(page, "06-login-refused")
    page.goto("/admin/")
    assert "/admin/login" in page.url


@pytest.mark.parametrize("path", ["/admin/", "/admin/rotation", "/admin/overrides", "/admin/contacts", "/admin/tokens"])
def test_the_pages_fit_a_phone_screen(open_page, team: Team, session: Session, clock: FakeClock, path: str) -> None:
    add_override(session, team.ana, clock.now + timedelta(days=1), clock.now + timedelta(days=2))
    session.commit()
    page = open_page(PHONE)
    log_in(page)
    page.goto(f"{path}?tz=Europe/London")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.locator("nav a").first.is_visible()
    # Who is on duty, or who a row is about, is in view without scrolling sideways.
    for cell in page.locator("td.lead").all():
        box = cell.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    screenshot(page, "07-phone" + path.replace("/admin", "").replace("/", "-").rstrip("-"))


@pytest.mark.parametrize(("viewport", "size"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_a_voicemail_ticket_and_its_call_read_well(open_page, session: Session, clock: FakeClock, viewport, size) -> None:
    now = clock.now
    ticket = Ticket(number=10001, severity="critical", status="open", source="phone", caller_number="+14155550100",
                    callback_number="+14155550100", created_at=now, response_due_at=now + timedelta(hours=2),
                    description="<script>alert('checkout')</script> The checkout page is down",
                    recording_url="https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
                    transcript="Hi, this is Sam from Acme, the checkout page has been down since nine.")
    ticket.events = [TicketEvent(at=now, kind="created", detail="critical ticket from phone"),
                     TicketEvent(at=now + timedelta(minutes=2), kind="voicemail", detail="recording (31 s)")]
    call = CallLog(call_sid="CA" + "1" * 32, from_number="+14155550100", to_number="+18005550199", started_at=now,
                   ended_at=now + timedelta(minutes=3), duration=180, status="completed", outcome="voicemail",
                   step="done", ticket=ticket)
    call.events = [CallEvent(at=now, kind="call_started", detail="from +14155550100"),
                   CallEvent(at=now + timedelta(seconds=30), kind="dial", detail="ringing Priya Raman +14155550101"),
                   CallEvent(at=now + timedelta(seconds=60), kind="voicemail", detail="recording (31 s)")]
    session.add_all([ticket, call])
    session.commit()
    page = open_page(viewport)
    log_in(page)
    for path, name in [("/admin/tickets/", "tickets"), ("/admin/tickets/10001", "ticket"),
                       ("/admin/calls/", "calls"), (f"/admin/calls/{call.call_sid}", "call")]:
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        screenshot(page, f"08-{name}-{size}")
    page.goto("/admin/tickets/10001")
    assert "<script>alert('checkout')</script>" in page.inner_text("main")
    assert page.get_attribute("#voicemail a", "href").startswith("https://api.twilio.com/")


def test_an_engineer_acknowledges_a_ticket_adds_a_note_and_starts_a_callback(open_page, session: Session,
                                                                             clock: FakeClock) -> None:
    now = clock.now
    ticket = Ticket(number=10001, severity="critical", status="open", source="phone", caller_number="+14155550100",
                    callback_number="+14155550100", created_at=now - timedelta(minutes=40),
                    response_due_at=now + timedelta(hours=1, minutes=20), description="The checkout page is down")
    ticket.events = [TicketEvent(at=now - timedelta(minutes=40), kind="created", detail="critical ticket from phone")]
    session.add(ticket)
    session.commit()
    page = open_page()
    log_in(page)
    page.click("nav >> text=Tickets")
    assert "due in 1 h 20 min" in page.inner_text("table")
    page.click("a:has-text('10001')")
    assert "due in 1 h 20 min" in page.inner_text("main")

    page.click("#actions button:has-text('Acknowledge')")
    assert "Ticket 10001 acknowledged" in page.inner_text(".flash-ok")
    assert "answered in time" in page.inner_text("main")

    page.fill("#note", "Restarted the payment worker; <b>watching</b> the error rate.")
    page.click("button:has-text('Add note')")
    assert "Note added to ticket 10001." in page.inner_text(".flash-ok")
    assert "admin:maria: Restarted the payment worker; <b>watching</b> the error rate." in page.inner_text(".events")

    assert page.locator("#contact_id option:checked").inner_text().startswith("Priya Raman")  # on duty now
    page.click("button:has-text('Start callback')")
    assert ("Callback queued: the line will ring Priya Raman at +14155550101, then the customer at +14155550100."
            in page.inner_text(".flash-ok"))
    row = " ".join(page.inner_text("#notifications tbody tr").split())
    assert row.startswith("callback Priya Raman +14155550101 call queued 0")
    screenshot(page, "09-ticket-actions")


# ----------------------------------------------------------------------------- accessibility

def test_the_accessibility_check_reports_what_axe_core_finds(open_page) -> None:
    page = open_page(inject=True)
    page.set_content('<html lang="en"><title>t</title><body><main><h1>Form</h1><input type="text"></main></body></html>')
    assert [v.split(" ")[0] for v in axe_violations(page)] == ["label"], "an input without a label is caught"


@pytest.fixture
def everything(session: Session, team: Team, clock: FakeClock) -> dict[str, str]:
    """A ticket, its call and an override, so that every admin page has something to show."""
    now = clock.now
    ticket = Ticket(number=10001, severity="high", status="open", source="phone", caller_number="+14155550100",
                    callback_number="+14155550100", created_at=now, response_due_at=now + timedelta(hours=6))
    ticket.events = [TicketEvent(at=now, kind="created", detail="high ticket from phone")]
    call = CallLog(call_sid="CA" + "5" * 32, from_number="+14155550100", to_number="+18005550199", started_at=now,
                   ended_at=now + timedelta(minutes=1), duration=60, status="completed", outcome="missed",
                   step="done", ticket=ticket)
    call.events = [CallEvent(at=now, kind="call_started", detail="from +14155550100")]
    override = add_override(session, team.ana, now + timedelta(days=1), now + timedelta(days=2))
    session.add_all([ticket, call])
    session.commit()
    partner = people_service.add_organization(session, {"name": "Northwind Partners", "kind": "partner"}, now=now,
                                              actor="tests")
    acme = people_service.add_organization(session, {"name": "Acme Corp", "kind": "customer",
                                                     "partner_id": partner.id}, now=now, actor="tests")
    lena = people_service.add_person(session, {"name": "Lena Fischer", "email": "lena@acme.example",
                                               "organization_id": acme.id}, region="US", now=now, actor="tests")
    return {"call": call.call_sid, "override": str(override.id), "contact": str(team.tom.id),
            "partner": str(partner.id), "person": str(lena.id)}


ADMIN_PAGES = ["/admin/", "/admin/contacts", "/admin/contacts/{contact}", "/admin/rotation", "/admin/overrides",
               "/admin/overrides/{override}", "/admin/tickets/", "/admin/tickets/10001", "/admin/calls/",
               "/admin/calls/{call}", "/admin/tokens", "/admin/audit", "/admin/organizations",
               "/admin/organizations/{partner}", "/admin/people", "/admin/people/{person}", "/admin/reports/"]


@pytest.mark.parametrize(("viewport", "size"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_every_admin_page_passes_axe_core(open_page, everything: dict[str, str], viewport, size) -> None:
    page = open_page(viewport, inject=True)
    page.goto("/admin/login")
    violations = {"/admin/login": axe_violations(page), "/": []}
    page.goto("/")
    violations["/"] = axe_violations(page)
    log_in(page)
    for path in ADMIN_PAGES:
        page.goto(path.format(**everything))
        violations[path] = axe_violations(page)
    assert {path: found for path, found in violations.items() if found} == {}


@pytest.mark.parametrize(("viewport", "size"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_a_refused_field_is_marked_next_to_its_reason_and_passes_axe_core(open_page, viewport, size) -> None:
    page = open_page(viewport, inject=True)
    log_in(page)
    page.goto("/admin/contacts")
    page.fill("#name", "Kenji Watanabe")
    page.fill("#phone", "+1 415 555 0104 ext. 7")
    page.click("button:has-text('Add contact')")
    # Measured once the refused page has its stylesheet: a layout taken before it is applied is not the page's.
    page.wait_for_load_state("load")
    phone = page.locator("#phone")
    assert phone.get_attribute("aria-invalid") == "true"
    assert page.locator("#phone-error").inner_text().startswith("Phone '+1 415 555 0104 ext. 7' has an extension")
    # The reason sits right above the field it concerns, not only in the banner at the top of the page.
    reason, field = page.locator("#phone-error").bounding_box(), phone.bounding_box()
    assert 0 <= field["y"] - (reason["y"] + reason["height"]) < 40
    assert phone.evaluate("el => el.value") == "+1 415 555 0104 ext. 7", "what was typed stays in the field"
    assert page.locator("#name").get_attribute("aria-invalid") is None
    screenshot(page, f"contact-refused-{size}")
    assert axe_violations(page) == []


@pytest.mark.parametrize(("viewport", "size"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_the_manager_reads_the_sla_report_on_a_phone_and_a_desk(open_page, session: Session, clock: FakeClock,
                                                                  viewport, size) -> None:
    numbers = seed_november(add_desk(session))
    clock.set(READ_AT)
    page = open_page(viewport, inject=True)
    log_in(page)
    page.goto("/admin/reports/?group=week&from=2026-10-05&to=2026-12-03")
    assert page.inner_text("h1") == "SLA report"
    # Both charts were drawn and loaded, and shrink to the screen.
    for chart in page.locator(".charts img").all():
        assert chart.evaluate("img => img.complete && img.naturalWidth > 0")
        box = chart.bounding_box()
        assert box is not None and box["width"] <= viewport["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    week = " ".join(page.inner_text("#period-2026-11-09").split())
    assert "Week of Mon 09 Nov 2026" in week and "high" in week
    assert f"Ticket {numbers['A1']}" in page.inner_text("#at-risk-heading + p + ul")
    assert axe_violations(page) == []
    screenshot(page, f"report-{size}")
    page.click("#cell-2026-11-09-high a.badge")
    assert "breached=yes" in page.url
    listed = page.inner_text("table")
    assert str(numbers["H2"]) in listed and str(numbers["R"]) in listed and str(numbers["H1"]) not in listed
