"""The admin pages for the on-call side: login, on call now, contacts, rotation, overrides, audit.

Every test runs with CSRF protection on, as production does: forms are posted with the
token the page handed out, as a browser would.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from staff.admins import create_admin
from oncall.models import Contact, Override, Rotation
from staff.models import AuditEntry
from oncall.service import duty_at
from tests.support import PASSWORD, USERNAME, AdminActions, FieldMarks, Team, add_override, field_marks, fresh, text_of

UTC = timezone.utc
# The fixture clock, 2026-11-26 03:00 UTC, is Wednesday 22:00 in New York: Priya's week
# (Monday 23 November 09:00 EST to Monday 30 November 09:00 EST), Tom's comes next.
PRIYA_WEEK_START = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
PRIYA_WEEK_END = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)

PROTECTED_PAGES = [
    "/admin/",
    "/admin/contacts",
    "/admin/contacts/1",
    "/admin/rotation",
    "/admin/overrides",
    "/admin/audit",
    "/admin/tickets/",
    "/admin/tickets/10001",
    "/admin/calls/",
    "/admin/calls/CA123",
    "/admin/organizations",
    "/admin/organizations/1",
    "/admin/people",
    "/admin/people/1",
]


def audit_entries(session: Session) -> list[AuditEntry]:
    fresh(session)
    return session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()


# ----------------------------------------------------------------------------- logging in


@pytest.mark.parametrize("path", PROTECTED_PAGES)
def test_every_admin_page_sends_a_visitor_who_is_not_logged_in_to_the_login_page(client, session, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login?next=")


@pytest.mark.parametrize("path", ["/admin/contacts", "/admin/rotation", "/admin/overrides", "/admin/overrides/1/delete"])
def test_a_change_posted_by_a_visitor_who_is_not_logged_in_is_sent_to_the_login_page(client, session, path) -> None:
    response = AdminActions(client).post(path, {"name": "Mallory", "phone": "+14155550666", "action": "save"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login")
    assert session.scalars(select(Contact)).all() == [] and session.scalars(select(AuditEntry)).all() == []


def test_an_admin_logs_in_and_lands_on_the_page_they_asked_for(client, admin_user) -> None:
    first = client.get("/admin/overrides")
    assert first.status_code == 302
    login_page = client.get(first.headers["Location"])
    assert 'name="next" value="/admin/overrides"' in login_page.text
    response = AdminActions(client).login(next="/admin/overrides")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/overrides"
    assert client.get("/admin/overrides").status_code == 200


@pytest.mark.parametrize("next_page", ["//evil.example.com/admin", "https://evil.example.com/admin", "/api/contacts",
                                       "/admin\\@evil.example.com", "/admin/\r\nSet-Cookie: stolen=1",
                                       "/admin/overrides\n", "/admin/\x00"])
def test_a_login_never_sends_the_admin_to_another_site(client, admin_user, next_page: str) -> None:
    response = AdminActions(client).login(next=next_page)
    assert response.headers["Location"] == "/admin/"


@pytest.mark.parametrize(("username", "password"), [(USERNAME, "wrong password!"), ("nobody", PASSWORD)])
def test_a_wrong_username_or_password_is_refused_with_a_clear_message(client, admin_user, username, password) -> None:
    response = AdminActions(client).login(username, password)
    assert response.status_code == 401
    assert "Wrong username or password" in response.text
    assert client.get("/admin/").status_code == 302


def test_five_wrong_passwords_hold_back_that_address_not_the_admin(app, client, admin_user, clock) -> None:
    actions = AdminActions(client)
    for _ in range(5):
        assert actions.login(password="wrong password!").status_code == 401
    refused = actions.login()
    assert refused.status_code == 429 and "Too many failed logins from here. Try again after" in refused.text
    assert refused.headers["Retry-After"] == str(15 * 60), "the window runs from the first of the five failures"
    elsewhere = AdminActions(app.test_client())
    elsewhere.client.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert elsewhere.login().status_code == 302, "the admin, from their own address, still gets in"
    clock.advance(minutes=16)
    assert actions.login().status_code == 302, "the address may try again once the window has passed"


def test_an_address_guessing_many_usernames_is_held_back_from_all_of_them(client, admin_user, clock) -> None:
    actions = AdminActions(client)
    for i in range(20):
        assert actions.login(username=f"guess{i}", password="wrong password!").status_code == 401
    assert actions.login().status_code == 429, "twenty failures from one address: not even the right password"


def test_an_unknown_username_is_refused_and_counted_like_a_wrong_password(client, admin_user) -> None:
    actions = AdminActions(client)
    for _ in range(5):
        response = actions.login(username="nobody", password="wrong password!")
        assert response.status_code == 401 and "Wrong username or password" in response.text
    assert actions.login(username="nobody", password="wrong password!").status_code == 429


def test_logging_out_ends_the_session_on_the_server_not_only_in_the_browser(app, admin: AdminActions) -> None:
    stolen = admin.client.get_cookie("session").value
    admin.post("/admin/logout", page="/admin/")
    replayed = app.test_client()
    replayed.set_cookie("session", stolen)
    assert replayed.get("/admin/").status_code == 302, "a copy of the old cookie no longer opens the pages"


def test_logging_out_ends_the_session(admin: AdminActions) -> None:
    response = admin.post("/admin/logout", page="/admin/")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/login"
    assert admin.get("/admin/").status_code == 302


def test_logging_out_needs_a_post_so_a_link_elsewhere_cannot_do_it(admin: AdminActions) -> None:
    assert admin.get("/admin/logout").status_code == 405
    assert admin.get("/admin/").status_code == 200


def test_a_password_reset_ends_the_sessions_that_used_the_old_password(admin: AdminActions, session, clock) -> None:
    create_admin(session, USERNAME, "a brand new password", clock.now)
    assert admin.get("/admin/").status_code == 302


def test_the_session_cookie_is_http_only_and_same_site(client, admin_user) -> None:
    cookie = AdminActions(client).login().headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_the_session_cookie_is_secure_when_the_line_is_served_over_https(make_app, admin_user) -> None:
    client = make_app(PUBLIC_URL="https://support.example.com").test_client()
    cookie = AdminActions(client).login().headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_admin_pages_cannot_be_framed_or_cached(admin: AdminActions) -> None:
    response = admin.get("/admin/")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


# ----------------------------------------------------------------------------- CSRF


def test_csrf_protection_is_on_in_the_test_app_as_in_production(app: Flask) -> None:
    assert app.config["TESTING"] is True
    assert app.config.get("WTF_CSRF_ENABLED", True) is True


def test_a_login_posted_without_its_csrf_token_is_refused(client, admin_user) -> None:
    client.get("/admin/login")
    response = client.post("/admin/login", data={"username": USERNAME, "password": PASSWORD})
    assert response.status_code == 400
    assert "The CSRF token is missing" in response.text
    assert client.get("/admin/").status_code == 302


def test_a_form_posted_without_its_csrf_token_is_refused_and_changes_nothing(admin: AdminActions, session) -> None:
    response = admin.client.post("/admin/contacts", data={"name": "Mallory", "phone": "+14155550666"})
    assert response.status_code == 400
    assert "This form was refused" in response.text
    assert session.scalars(select(Contact)).all() == []


def test_a_form_posted_with_a_forged_csrf_token_is_refused(admin: AdminActions, session) -> None:
    response = admin.client.post("/admin/contacts", data={"csrf_token": "forged", "name": "Mallory",
                                                          "phone": "+14155550666"})
    assert response.status_code == 400
    assert session.scalars(select(Contact)).all() == []


# ----------------------------------------------------------------------------- on call now


def test_the_oncall_page_shows_who_is_on_duty_who_is_next_and_when_the_shift_ends(admin, team: Team) -> None:
    page = text_of(admin.get("/admin/").text)
    assert "On duty Priya Raman +14155550101" in page
    assert "Since Mon 23 Nov, 09:00 EST On duty until Mon 30 Nov, 09:00 EST in 4 d 11 h" in page
    assert "Next Tom Berg from Mon 30 Nov, 09:00 EST until Mon 07 Dec, 09:00 EST" in page
    assert "If Priya Raman does not answer Tom Berg +14155550102 voicemail on the ticket" in page


def test_the_timeline_shows_the_next_14_days_in_whole_shifts_with_overrides_marked(admin, team: Team, session) -> None:
    # Ana covers Friday 09:00 to Saturday 09:00 New York time.
    add_override(session, team.ana, datetime(2026, 11, 27, 14, tzinfo=UTC), datetime(2026, 11, 28, 14, tzinfo=UTC))
    session.commit()
    html = admin.get("/admin/").text
    rows = [text_of(row) for row in re.findall(r"<tr class=.*?</tr>", html.split("The next 14 days")[1], re.S)]
    assert rows == [
        "Mon 23 Nov, 09:00 EST Fri 27 Nov, 09:00 EST Priya Raman now",
        "Fri 27 Nov, 09:00 EST Sat 28 Nov, 09:00 EST Ana Souza override",
        "Sat 28 Nov, 09:00 EST Mon 30 Nov, 09:00 EST Priya Raman",
        "Mon 30 Nov, 09:00 EST Mon 07 Dec, 09:00 EST Tom Berg",
        "Mon 07 Dec, 09:00 EST Mon 14 Dec, 09:00 EST Ana Souza",
    ]


def test_times_show_in_the_viewers_zone_too_when_it_differs(admin, team: Team) -> None:
    page = text_of(admin.get("/admin/?tz=Europe/Berlin").text)
    assert "On duty until Mon 30 Nov, 09:00 EST (Mon 30 Nov, 15:00 CET)" in page
    # The choice is remembered for the other pages.
    assert "(Mon 30 Nov, 15:00 CET)" in text_of(admin.get("/admin/rotation").text)
    back_home = text_of(admin.get("/admin/?tz=America/New_York").text)
    assert "Mon 30 Nov, 09:00 EST" in back_home and "CET" not in back_home


def test_an_unknown_viewer_zone_is_refused_with_a_message(admin, team: Team) -> None:
    response = admin.get("/admin/?tz=Mars/Olympus")
    assert response.status_code == 200
    assert "&#39;Mars/Olympus&#39; is not a time zone; showing America/New_York." in response.text


def test_the_oncall_page_says_so_when_nobody_is_on_duty(admin) -> None:
    page = text_of(admin.get("/admin/").text)
    assert "Nobody is on duty." in page and "Callers go to voicemail" in page


def test_an_empty_rotation_is_a_coverage_warning(admin) -> None:
    assert "The rotation is empty" in admin.get("/admin/").text


def test_a_rotation_of_inactive_members_is_a_coverage_warning(admin, team: Team, session) -> None:
    for contact in (team.priya, team.tom, team.ana):
        contact.active = False
    session.commit()
    page = admin.get("/admin/").text
    assert "Every member of the rotation is inactive" in page
    assert "The rotation is empty" not in page


def test_a_member_without_a_valid_phone_is_a_coverage_warning(admin, team: Team, session) -> None:
    team.tom.phone = "+1415555"
    session.commit()
    assert "Tom Berg has no valid phone number (&#39;+1415555&#39;)" in admin.get("/admin/").text
    assert "no valid phone" in admin.get("/admin/rotation").text


def test_a_missing_fallback_number_is_a_coverage_warning_until_one_is_set(make_app, team: Team, admin_user) -> None:
    without = AdminActions(make_app().test_client())
    without.login()
    assert "No fallback number is set" in without.get("/admin/").text
    with_fallback = AdminActions(make_app(FALLBACK_NUMBER="+14155550999").test_client())
    with_fallback.login()
    page = with_fallback.get("/admin/").text
    assert "No fallback number is set" not in page and "Coverage warnings" not in page
    assert "the fallback number +14155550999" in page


# ----------------------------------------------------------------------------- contacts


def test_an_admin_adds_a_contact_and_the_audit_trail_names_them(admin, session) -> None:
    response = admin.post("/admin/contacts", {"name": "Kenji Watanabe", "phone": "(415) 555-0104", "email": ""})
    assert response.status_code == 302
    listed = text_of(admin.get(response.headers["Location"]).text)
    assert "Added Kenji Watanabe (+14155550104)" in listed
    kenji = session.scalars(select(Contact)).one()
    assert (kenji.name, kenji.phone, kenji.active) == ("Kenji Watanabe", "+14155550104", True)
    [entry] = audit_entries(session)
    assert (entry.actor, entry.action, entry.subject) == ("admin:maria", "contact.created", f"contact {kenji.id}")


@pytest.mark.parametrize("phone", ["12345", "+1 415 555", "not a number", ""])
def test_a_bad_phone_number_is_refused_with_a_clear_message_and_nothing_is_saved(admin, session, phone: str) -> None:
    response = admin.post("/admin/contacts", {"name": "Kenji Watanabe", "phone": phone})
    assert response.status_code == 422
    assert "is not a valid phone number: give it in E.164 (+14155550123)" in response.text
    # The form keeps what was typed, so the manager fixes one field instead of starting over.
    assert 'value="Kenji Watanabe"' in response.text
    assert session.scalars(select(Contact)).all() == []


def test_a_refused_phone_is_marked_invalid_and_its_reason_is_next_to_it(admin, session) -> None:
    html = admin.post("/admin/contacts", {"name": "Kenji Watanabe", "phone": "+1 415 555 0104 ext. 7"}).text
    phone = field_marks(html, "phone")
    assert phone.invalid and phone.described_by == ["phone-hint", "phone-error"]
    assert phone.message == "Phone '+1 415 555 0104 ext. 7' has an extension (7), which the line cannot dial: give the direct number."
    assert field_marks(html, "name") == FieldMarks(invalid=False, described_by=[], message=None)
    assert field_marks(html, "email") == FieldMarks(invalid=False, described_by=[], message=None)


def test_a_refused_edit_marks_the_field_it_concerns(admin, team: Team) -> None:
    html = admin.post(f"/admin/contacts/{team.tom.id}", {"name": "Tom Berg", "phone": team.tom.phone,
                                                          "email": "tom at example"}).text
    assert field_marks(html, "email") == FieldMarks(True, ["email-error"], "Email 'tom at example' is not an email address.")
    assert not field_marks(html, "phone").invalid


def test_an_override_without_an_end_or_ending_in_the_past_marks_until(admin, team: Team, clock) -> None:
    empty = admin.post("/admin/overrides", {"contact_id": str(team.ana.id), "start": "", "end": ""}).text
    assert field_marks(empty, "end") == FieldMarks(True, ["times-hint", "end-error"],
                                                   "Give the date and time the cover ends, in Until.")
    assert not field_marks(empty, "start").invalid and not field_marks(empty, "contact_id").invalid
    past = admin.post("/admin/overrides", {"contact_id": str(team.ana.id), "end": "2026-11-25T09:00"}).text
    assert field_marks(past, "end").message == "The end is in the past: an override must end after now."
    nobody = admin.post("/admin/overrides", {"contact_id": "", "end": "2026-11-28T09:00"}).text
    assert field_marks(nobody, "contact_id") == FieldMarks(True, ["contact_id-error"], "Choose who covers.")


def test_a_refused_rotation_save_marks_the_field_and_keeps_names_as_written(admin, team: Team) -> None:
    form = {"member": [str(team.priya.id), str(team.tom.id)], "timezone": "Mars/Olympus", "handoff": "2026-01-05T09:00",
            "shift_kind": "weekly", "shift_hours": "", "backups": "1", "takes_effect": "now", "action": "save"}
    html = admin.post("/admin/rotation", form).text
    timezone_marks = field_marks(html, "timezone")
    assert timezone_marks.invalid and "Mars/Olympus" in (timezone_marks.message or "")
    backups = admin.post("/admin/rotation", {**form, "timezone": "America/New_York", "backups": "two"}).text
    assert field_marks(backups, "backups") == FieldMarks(True, ["backups-error"],
                                                        "Backups must be a whole number, not 'two'.")
    assert not field_marks(backups, "timezone").invalid
    twice = admin.post("/admin/rotation", {**form, "timezone": "America/New_York", "action": "add",
                                           "new_member": str(team.tom.id)}).text
    assert field_marks(twice, "new_member").message == "That contact is in the rotation already."


def test_a_contact_without_a_name_is_refused(admin, session) -> None:
    response = admin.post("/admin/contacts", {"name": "  ", "phone": "+14155550104"})
    assert response.status_code == 422 and "name must be text of 1 to 120 characters" in response.text


def test_an_admin_edits_a_contact(admin, team: Team, session) -> None:
    form = admin.get(f"/admin/contacts/{team.tom.id}").text
    assert 'value="Tom Berg"' in form and 'value="+14155550102"' in form
    response = admin.post(f"/admin/contacts/{team.tom.id}", {"name": "Tom Berg", "phone": "415-555-0199",
                                                             "email": "tom@example.com"})
    assert response.status_code == 302
    session.refresh(team.tom)
    assert (team.tom.phone, team.tom.email) == ("+14155550199", "tom@example.com")
    [entry] = audit_entries(session)
    assert json.loads(entry.before)["phone"] == "+14155550102" and json.loads(entry.after)["phone"] == "+14155550199"


def test_a_bad_edit_is_refused_and_changes_nothing(admin, team: Team, session) -> None:
    response = admin.post(f"/admin/contacts/{team.tom.id}", {"name": "Thomas", "phone": "12"})
    assert response.status_code == 422 and "is not a valid phone number" in response.text
    session.refresh(team.tom)
    assert (team.tom.name, team.tom.phone) == ("Tom Berg", "+14155550102")
    assert "Tom Berg" in admin.get("/admin/contacts").text


def test_a_deactivated_contact_is_skipped_by_the_rotation(admin, team: Team, session, clock) -> None:
    response = admin.post(f"/admin/contacts/{team.priya.id}/active", {"active": "no"})
    assert response.status_code == 302
    listed = admin.get("/admin/contacts").text
    assert "Priya Raman is inactive: the rotation skips them" in listed and "Tom Berg is on duty now." in listed
    fresh(session)
    assert duty_at(session, clock.now).on_duty.name == "Tom Berg"
    admin.post(f"/admin/contacts/{team.priya.id}/active", {"active": "yes"})
    fresh(session)
    assert duty_at(session, clock.now).on_duty.name == "Priya Raman"
    assert [e.action for e in audit_entries(session)] == ["contact.updated", "contact.updated"]


def test_a_missing_contact_is_a_404_with_a_message(admin, session) -> None:
    response = admin.get("/admin/contacts/999")
    assert response.status_code == 404 and "There is no contact 999." in response.text
    response = admin.post("/admin/contacts/999", {"name": "X", "phone": "+14155550104"})
    assert response.status_code == 404
    assert admin.post("/admin/contacts/999/active", {"active": "no"}).status_code == 404


def test_a_contact_name_holding_a_script_tag_shows_as_text(admin, session) -> None:
    admin.post("/admin/contacts", {"name": "<script>alert(1)</script>", "phone": "+14155550104"})
    contact = session.scalars(select(Contact)).one()
    for page in ("/admin/contacts", f"/admin/contacts/{contact.id}", "/admin/rotation", "/admin/overrides",
                 "/admin/audit"):
        html = admin.get(page).text
        assert "<script>" not in html, page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, page


# ----------------------------------------------------------------------------- rotation


def member_ids(html: str) -> list[int]:
    return [int(m) for m in re.findall(r'name="member" value="(\d+)"', html)]


def rotation_form(team: Team, **changes) -> dict:
    form = {"timezone": "America/New_York", "handoff": "2026-11-23T09:00", "shift_kind": "weekly",
            "shift_hours": "", "backups": "1", "effective_from": "",
            "member": [team.priya.id, team.tom.id, team.ana.id]}
    return {**form, **changes}


def test_the_rotation_page_shows_the_members_in_duty_order_and_the_next_shifts(admin, team: Team) -> None:
    html = admin.get("/admin/rotation").text
    assert member_ids(html) == [team.priya.id, team.tom.id, team.ana.id]
    assert 'value="America/New_York"' in html and 'value="2026-11-23T09:00"' in html
    assert re.search(r'value="handoff"\s+checked', html), "a change takes effect at the next handoff unless asked"
    preview = text_of(html.split('id="preview"')[1])
    assert ("Mon 30 Nov, 09:00 EST Mon 07 Dec, 09:00 EST Tom Berg Mon 07 Dec, 09:00 EST Mon 14 Dec, 09:00 EST Ana Souza "
            "Mon 14 Dec, 09:00 EST Mon 21 Dec, 09:00 EST Priya Raman") in preview, "one whole cycle: every member once"
    assert "Mon 28 Dec" not in preview


def test_moving_a_member_up_changes_the_draft_and_its_preview_but_saves_nothing(admin, team: Team, session) -> None:
    response = admin.post("/admin/rotation", {**rotation_form(team), "action": "up-2"})
    assert response.status_code == 200
    assert member_ids(response.text) == [team.priya.id, team.ana.id, team.tom.id]
    assert "Draft: nothing is saved" in response.text
    assert "Mon 30 Nov, 09:00 EST Mon 07 Dec, 09:00 EST Ana Souza" in text_of(response.text)
    assert len(session.scalars(select(Rotation)).all()) == 1 and audit_entries(session) == []


@pytest.mark.parametrize(
    ("action", "order"),
    [("up-0", "priya tom ana"), ("down-0", "tom priya ana"), ("down-2", "priya tom ana"), ("remove-1", "priya ana")],
)
def test_each_member_button_changes_the_draft(admin, team: Team, action: str, order: str) -> None:
    response = admin.post("/admin/rotation", {**rotation_form(team), "action": action})
    assert member_ids(response.text) == [getattr(team, name).id for name in order.split()]


def test_adding_a_contact_to_the_draft_puts_them_last(admin, team: Team, session) -> None:
    kenji = Contact(name="Kenji Watanabe", phone="+14155550104", active=True, created_at=datetime(2026, 1, 1, tzinfo=UTC))
    session.add(kenji)
    session.commit()
    response = admin.post("/admin/rotation", {**rotation_form(team), "action": "add", "new_member": str(kenji.id)})
    assert member_ids(response.text) == [team.priya.id, team.tom.id, team.ana.id, kenji.id]
    refused = admin.post("/admin/rotation", {**rotation_form(team), "action": "add", "new_member": ""})
    assert refused.status_code == 422 and "Choose a contact to add to the rotation." in refused.text


def test_saving_a_reordered_rotation_applies_from_now_and_never_rewrites_the_past(admin, team: Team, session, clock) -> None:
    form = rotation_form(team, member=[team.tom.id, team.priya.id, team.ana.id])
    response = admin.post("/admin/rotation", {**form, "action": "save"})
    assert response.status_code == 302
    assert "Rotation saved. It applies from Wed 25 Nov, 22:00 EST" in text_of(admin.get("/admin/rotation").text)
    saved = session.scalars(select(Rotation).order_by(Rotation.id.desc())).first()
    assert saved.effective_from == clock.now
    assert [m.contact_id for m in saved.members] == [team.tom.id, team.priya.id, team.ana.id]
    assert duty_at(session, clock.now - timedelta(seconds=1)).on_duty.name == "Priya Raman"
    [entry] = [e for e in audit_entries(session) if e.action == "rotation.saved"]
    assert entry.actor == "admin:maria"
    assert json.loads(entry.before)["members"] == [team.priya.id, team.tom.id, team.ana.id]
    assert json.loads(entry.after)["members"] == [team.tom.id, team.priya.id, team.ana.id]


def test_saving_a_rotation_with_nobody_on_it_asks_first_and_says_where_callers_go(admin, team: Team, session) -> None:
    form = {**rotation_form(team, member=[]), "takes_effect": "now", "action": "save"}
    asked = admin.post("/admin/rotation", form)
    warning = "Nobody on this rotation can be on duty: callers go to voicemail."
    assert asked.status_code == 200 and warning in text_of(asked.text) and "Save anyway" in asked.text
    assert len(session.scalars(select(Rotation)).all()) == 1, "nothing saved before the admin confirms"
    assert admin.post("/admin/rotation", {**form, "confirmed": warning}).status_code == 302
    fresh(session)
    assert len(session.scalars(select(Rotation)).all()) == 2


def test_a_save_that_hands_over_the_shift_now_names_who_takes_over_from_whom(admin, team: Team, session,
                                                                              clock) -> None:
    form = {**rotation_form(team, member=[team.ana.id, team.tom.id]), "takes_effect": "now", "action": "save"}
    asked = admin.post("/admin/rotation", form)
    assert "Ana Souza takes over from Priya Raman now." in text_of(asked.text)
    changed = {**form, "member": [team.tom.id, team.ana.id], "confirmed": "Ana Souza takes over from Priya Raman now."}
    again = admin.post("/admin/rotation", changed)
    assert "Tom Berg takes over from Priya Raman now." in text_of(again.text), "a changed draft is asked about again"
    assert len(session.scalars(select(Rotation)).all()) == 1
    confirmed = {**changed, "confirmed": "Tom Berg takes over from Priya Raman now."}
    assert admin.post("/admin/rotation", confirmed).status_code == 302
    fresh(session)
    assert duty_at(session, clock.now).on_duty.name == "Tom Berg"


def test_a_reorder_saved_for_the_next_handoff_changes_nobodys_shift_in_progress(admin, team: Team, session,
                                                                                 clock) -> None:
    form = {**rotation_form(team, member=[team.priya.id, team.ana.id, team.tom.id]), "takes_effect": "handoff"}
    assert admin.post("/admin/rotation", {**form, "action": "save"}).status_code == 302
    saved = session.scalars(select(Rotation).order_by(Rotation.id.desc())).first()
    assert saved.effective_from == PRIYA_WEEK_END
    assert session.scalars(select(Override)).all() == [], "no shift was in progress at the handoff to keep"
    assert duty_at(session, clock.now).on_duty.name == "Priya Raman"
    assert duty_at(session, PRIYA_WEEK_END).on_duty.name == "Ana Souza"


def test_a_rotation_change_can_take_effect_from_a_chosen_local_time(admin, team: Team, session) -> None:
    form = rotation_form(team, member=[team.ana.id, team.tom.id], effective_from="2026-11-30T09:00")
    assert admin.post("/admin/rotation", {**form, "action": "save"}).status_code == 302
    saved = session.scalars(select(Rotation).order_by(Rotation.id.desc())).first()
    assert saved.effective_from == PRIYA_WEEK_END
    page = text_of(admin.get("/admin/rotation").text)
    assert "A change saved for later takes effect Mon 30 Nov, 09:00 EST" in page


def test_a_rotation_change_in_the_past_is_refused(admin, team: Team, session) -> None:
    form = rotation_form(team, effective_from="2026-11-20T09:00")
    response = admin.post("/admin/rotation", {**form, "action": "save"})
    assert response.status_code == 422
    assert "Not saved: a rotation change cannot take effect in the past." in response.text
    assert len(session.scalars(select(Rotation)).all()) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone &#39;Mars/Olympus&#39;"),
        ({"handoff": "next monday"}, "must be a local wall time written YYYY-MM-DDTHH:MM"),
        ({"shift_kind": "hours", "shift_hours": "0"}, "a whole number from 1 to 672"),
        ({"shift_kind": "hours", "shift_hours": "six"}, "the shift length in hours must be a whole number"),
        ({"backups": "-1"}, "backups must be a whole number"),
        ({"effective_from": "tomorrow"}, "is not a date and time such as 2026-11-26T09:00"),
    ],
)
def test_a_bad_rotation_is_refused_with_the_reason_and_not_saved(admin, team: Team, session, changes, message) -> None:
    response = admin.post("/admin/rotation", {**rotation_form(team, **changes), "action": "save"})
    assert response.status_code == 422
    assert "Not saved:" in response.text and message in response.text
    assert len(session.scalars(select(Rotation)).all()) == 1


def test_a_rotation_can_start_from_nothing(admin, session, clock) -> None:
    solo = Contact(name="Solo", phone="+14155550104", active=True, created_at=clock.now)
    session.add(solo)
    session.commit()
    html = admin.get("/admin/rotation").text
    assert "Nobody yet: add a contact below." in html and "Nobody would be on duty." in html
    # An empty line starts from a weekly draft handing off at 09:00 today in the support time zone.
    assert 'value="America/New_York"' in html and 'value="2026-11-25T09:00"' in html
    form = {"timezone": "Europe/London", "handoff": "2026-11-23T08:00", "shift_kind": "hours", "shift_hours": "12",
            "backups": "0", "effective_from": "", "member": [solo.id], "action": "save"}
    assert admin.post("/admin/rotation", form).status_code == 302
    assert duty_at(session, clock.now).on_duty.name == "Solo"
    assert "GMT" in admin.get("/admin/").text


# ----------------------------------------------------------------------------- overrides


def test_tom_covers_from_now_until_thursday_0900_and_the_oncall_panel_shows_it(admin, team: Team, session, clock) -> None:
    assert "Tom Berg" in admin.get("/admin/overrides").text
    response = admin.post("/admin/overrides", {"contact_id": str(team.tom.id), "start": "", "end": "2026-11-26T09:00"})
    assert response.status_code == 302
    override = session.scalars(select(Override)).one()
    assert (override.start, override.end) == (clock.now, datetime(2026, 11, 26, 14, 0, tzinfo=UTC))
    listed = text_of(admin.get("/admin/overrides").text)
    assert "Tom Berg covers from Wed 25 Nov, 22:00 EST until Thu 26 Nov, 09:00 EST" in listed
    panel = text_of(admin.get("/admin/").text)
    assert "On duty Tom Berg override" in panel
    assert "On duty until Thu 26 Nov, 09:00 EST" in panel and "Next Priya Raman" in panel
    [entry] = audit_entries(session)
    assert (entry.actor, entry.action) == ("admin:maria", "override.created")


def test_an_override_can_start_later(admin, team: Team, session) -> None:
    admin.post("/admin/overrides", {"contact_id": str(team.ana.id), "start": "2026-11-27T09:00", "end": "2026-11-28T09:00"})
    override = session.scalars(select(Override)).one()
    assert (override.start, override.end) == (datetime(2026, 11, 27, 14, tzinfo=UTC), datetime(2026, 11, 28, 14, tzinfo=UTC))


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"contact_id": "", "end": "2026-11-26T09:00"}, "Not added: choose who covers."),
        ({"contact_id": "TOM", "end": ""}, "Not added: give the date and time the cover ends, in Until."),
        ({"contact_id": "TOM", "end": "2026-11-25T09:00"}, "Not added: the end is in the past: an override must end after now."),
        ({"contact_id": "TOM", "end": "Thursday"}, "is not a date and time such as 2026-11-26T09:00"),
        ({"contact_id": "TOM", "start": "2026-11-26T09:00", "end": "2026-11-26T08:00"}, "the end must be after the start"),
        ({"contact_id": "TOM", "start": "2026-11-20T09:00", "end": "2026-11-21T09:00"}, "the end is in the past"),
        ({"contact_id": "999", "end": "2026-11-26T09:00"}, "there is no contact 999"),
    ],
)
def test_a_bad_override_is_refused_with_the_reason(admin, team: Team, session, form, message) -> None:
    form = {"start": "", **form}
    form["contact_id"] = form["contact_id"].replace("TOM", str(team.tom.id))
    response = admin.post("/admin/overrides", form)
    assert response.status_code == 422
    assert message in response.text
    assert session.scalars(select(Override)).all() == []


def test_an_inactive_contact_cannot_cover(admin, team: Team, session) -> None:
    team.tom.active = False
    session.commit()
    assert f'<option value="{team.tom.id}"' not in admin.get("/admin/overrides").text
    response = admin.post("/admin/overrides", {"contact_id": str(team.tom.id), "start": "", "end": "2026-11-26T09:00"})
    assert response.status_code == 422 and "Tom Berg is inactive" in response.text


def test_ending_an_override_in_progress_keeps_its_record_and_gives_the_rest_back(admin, team: Team, session,
                                                                                 clock) -> None:
    started = clock.now - timedelta(hours=1)
    override = add_override(session, team.tom, started, clock.now + timedelta(hours=5))
    session.commit()
    assert "On duty Tom Berg override" in text_of(admin.get("/admin/").text)
    assert "Remove" not in text_of(admin.get("/admin/overrides").text), "its covered hours are history"
    refused = admin.post(f"/admin/overrides/{override.id}/delete", {"confirm": "yes"})
    assert refused.status_code == 302 and "has started; end it now instead" in admin.get("/admin/overrides").text
    assert admin.post(f"/admin/overrides/{override.id}/end").status_code == 302
    assert "Tom Berg's override ended at" in text_of(admin.get("/admin/overrides").text)
    assert "On duty Priya Raman" in text_of(admin.get("/admin/").text)
    fresh(session)
    kept = session.scalars(select(Override)).one()
    assert (kept.start, kept.end) == (started, clock.now), "the hour Tom covered stays on record"
    [entry] = audit_entries(session)
    assert (entry.action, entry.actor) == ("override.ended", "admin:maria")


def test_removing_an_override_that_has_not_started_asks_first(admin, team: Team, session, clock) -> None:
    override = add_override(session, team.tom, clock.now + timedelta(days=1), clock.now + timedelta(days=2))
    session.commit()
    asked = admin.post(f"/admin/overrides/{override.id}/delete")
    assert asked.status_code == 200 and "Remove Tom Berg's override?" in text_of(asked.text)
    assert session.scalars(select(Override)).all() != [], "nothing removed before the admin confirms"
    assert admin.post(f"/admin/overrides/{override.id}/delete", {"confirm": "yes"}).status_code == 302
    assert "Override removed" in admin.get("/admin/overrides").text
    fresh(session)
    assert session.scalars(select(Override)).all() == []
    [entry] = audit_entries(session)
    assert (entry.action, entry.after) == ("override.deleted", None)
    assert "contact Tom Berg" in text_of(admin.get("/admin/audit").text)


def test_an_override_in_progress_can_be_moved_to_end_later_but_its_start_stays(admin, team: Team, session,
                                                                              clock) -> None:
    started = clock.now - timedelta(hours=1)
    override = add_override(session, team.tom, started, clock.now + timedelta(hours=5))
    session.commit()
    page = text_of(admin.get(f"/admin/overrides/{override.id}").text)
    assert "started: its start is history" in page and "End Tom Berg's override now" in page
    assert admin.post(f"/admin/overrides/{override.id}", {"end": "2026-11-26T09:00"}).status_code == 302
    moved = admin.post(f"/admin/overrides/{override.id}", {"start": "2026-11-26T08:00", "end": "2026-11-26T09:00"})
    assert moved.status_code == 409 and "its start is history" in moved.text
    refused = admin.post(f"/admin/overrides/{override.id}", {"end": "2026-11-25T09:00"})
    assert refused.status_code == 422 and "to stop the cover now, end it now" in refused.text
    fresh(session)
    kept = session.scalars(select(Override)).one()
    assert (kept.start, kept.end) == (started, datetime(2026, 11, 26, 14, tzinfo=UTC))


def test_removing_a_missing_override_is_a_404_with_a_message(admin, session) -> None:
    response = admin.post("/admin/overrides/999/delete")
    assert response.status_code == 404 and "There is no override 999." in response.text


def test_past_overrides_are_listed_only_on_request(admin, team: Team, session, clock) -> None:
    add_override(session, team.ana, clock.now - timedelta(days=3), clock.now - timedelta(days=2))
    add_override(session, team.tom, clock.now + timedelta(days=1), clock.now + timedelta(days=2))
    session.commit()
    current = text_of(admin.get("/admin/overrides").text)
    assert "Tom Berg" in current and "Ana Souza" not in current.split("Now and coming")[1]
    everything = text_of(admin.get("/admin/overrides?past=1").text)
    assert "Ana Souza" in everything.split("All overrides, newest first")[1]


# ----------------------------------------------------------------------------- audit trail


def test_the_audit_trail_shows_who_changed_what_when_from_what_to_what(admin, team: Team, session) -> None:
    admin.post(f"/admin/contacts/{team.tom.id}", {"name": "Tom Berg", "phone": "+14155550199", "email": ""})
    admin.post("/admin/rotation", {**rotation_form(team, member=[team.tom.id, team.priya.id]), "action": "save"})
    page = text_of(admin.get("/admin/audit").text)
    assert "rotation.saved · rotation" in page
    assert "members Priya Raman, Tom Berg, Ana Souza Tom Berg, Priya Raman" in page
    assert f"contact.updated · contact {team.tom.id} Wed 25 Nov, 22:00 EST by admin:maria" in page
    assert "phone +14155550102 +14155550199" in page
    changed_rows = [text_of(row) for row in re.findall(r'<tr class="is-changed">.*?</tr>', admin.get("/admin/audit").text, re.S)]
    assert changed_rows == ["members Priya Raman, Tom Berg, Ana Souza Tom Berg, Priya Raman",
                            "takes effect Wed 31 Dec 2025, 19:00 EST Wed 25 Nov, 22:00 EST",
                            "phone +14155550102 +14155550199"]
    # Newest first.
    assert page.index("rotation.saved") < page.index("contact.updated")


def test_the_audit_trail_is_paged(admin, session, clock) -> None:
    for i in range(51):
        session.add(AuditEntry(at=clock.now + timedelta(seconds=i), actor="api:bot", action="contact.updated",
                               subject=f"contact {i}", before=None, after=json.dumps({"name": f"n{i}"})))
    session.commit()
    first = admin.get("/admin/audit").text
    assert "contact 50" in first and "contact 0<" not in first and "Next →" in first
    second = admin.get("/admin/audit?page=2").text
    assert "contact 0<" in second and "Next →" not in second
