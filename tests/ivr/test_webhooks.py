"""The webhooks' promises to Twilio (contract §1): signatures, well-formed TwiML, replays,
garbage, a second web process, a reverse proxy, and a database that is down."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from itertools import cycle

import pytest
from sqlalchemy import func, select
from core.db import app_engine
from core.settings import app_settings
from ivr.calls import Line
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from ivr import prompts
from ivr.models import CallEvent, CallLog
from phonesim import FlaskClientTransport, Reply, ScriptedCaller, Voicemail, place_call
from ivr.spool import replay_spool, spooled_entries
from tickets.models import Ticket
from tests.support import AUTH_TOKEN, CALL_SID, CALLER, PRIYA, PUBLIC_BASE, Team, call_params, signed_post

FALLBACK = "+14155550999"


def twiml_of(response) -> ET.Element:
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    return root


def rows(session: Session, model) -> int:
    session.commit()
    return session.scalar(select(func.count()).select_from(model))


# ----------------------------------------------------------------------------- signatures

WEBHOOKS = ["/ivr/voice", "/ivr/gather?step=main_menu&n=0", "/ivr/dial-result?n=0", "/ivr/recorded?n=0",
            "/ivr/status", "/ivr/fallback", "/ivr/fallback/recorded", f"/ivr/transcript?call={CALL_SID}",
            f"/ivr/whisper?call={CALL_SID}&target=0"]


@pytest.mark.parametrize("path", WEBHOOKS)
def test_a_request_without_a_signature_is_refused_and_leaves_no_trace(client, session: Session, path: str, app) -> None:
    response = client.post(path, data=call_params(Digits="1", RecordingUrl="https://x/r"), base_url=PUBLIC_BASE)
    assert response.status_code == 403
    assert rows(session, CallLog) == 0 and rows(session, Ticket) == 0
    assert spooled_entries(app_settings(app).spool_dir) == []


@pytest.mark.parametrize("path", WEBHOOKS)
def test_a_request_signed_with_another_token_is_refused(client, session: Session, path: str) -> None:
    response = signed_post(client, path, call_params(), token="not-the-token")
    assert response.status_code == 403
    assert rows(session, CallLog) == 0


def test_a_signature_for_another_url_is_refused(client, session: Session) -> None:
    response = signed_post(client, "/ivr/voice", call_params(), signed_url=f"{PUBLIC_BASE}/ivr/status")
    assert response.status_code == 403
    assert rows(session, CallLog) == 0


def test_a_signature_over_other_parameters_is_refused(client, session: Session) -> None:
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"{PUBLIC_BASE}/ivr/voice", call_params(From="+1999"))
    response = client.post("/ivr/voice", data=call_params(), base_url=PUBLIC_BASE, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert rows(session, CallLog) == 0


def test_a_signed_request_is_answered_with_twiml(client, session: Session) -> None:
    root = twiml_of(signed_post(client, "/ivr/voice", call_params()))
    assert root.find("Gather") is not None
    assert rows(session, CallLog) == 1


def test_webhooks_refuse_get(client) -> None:
    assert client.get("/ivr/voice", base_url=PUBLIC_BASE).status_code == 405


def test_the_sha256_signature_scheme_is_accepted_too(client, session: Session) -> None:
    params = call_params()
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"{PUBLIC_BASE}/ivr/voice", params, "HMAC_SHA256")
    response = client.post("/ivr/voice", data=params, base_url=PUBLIC_BASE, headers={
        "X-Twilio-Signature": signature, "X-Twilio-Webhooks-Signature-Settings": "algorithm=HMAC_SHA256"})
    assert response.status_code == 200


def test_behind_a_trusted_proxy_the_public_url_is_rebuilt_for_the_signature(make_app, session: Session) -> None:
    client = make_app(TRUSTED_PROXIES="1").test_client()
    params = call_params()
    public = "https://support.example.com/ivr/voice"
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "support.example.com", "X-Forwarded-Port": "443"}
    ok = signed_post(client, "/ivr/voice", params, base="http://10.0.0.5:8000", signed_url=public, headers=headers)
    assert ok.status_code == 200


def test_without_trusted_proxies_forwarded_headers_are_ignored(client, session: Session) -> None:
    params = call_params()
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "support.example.com"}
    refused = signed_post(client, "/ivr/voice", params, base="http://10.0.0.5:8000",
                          signed_url="https://support.example.com/ivr/voice", headers=headers)
    assert refused.status_code == 403


def test_with_a_public_url_the_signature_is_checked_against_it_whatever_host_is_claimed(make_app,
                                                                                        session: Session) -> None:
    client = make_app(PUBLIC_URL=PUBLIC_BASE).test_client()
    params = call_params()
    ok = signed_post(client, "/ivr/gather?step=main_menu&n=0", params, base="http://10.0.0.5:8000",
                     signed_url=f"{PUBLIC_BASE}/ivr/gather?step=main_menu&n=0")
    assert ok.status_code == 200, "signed for the public URL, delivered to an internal address"
    claimed = signed_post(client, "/ivr/voice", params, base="https://evil.example.com",
                          signed_url="https://evil.example.com/ivr/voice")
    assert claimed.status_code == 403, "a Host the attacker chose does not make their own URL the signed one"


# ----------------------------------------------------------------------------- replays


def test_a_replayed_webhook_changes_nothing_twice(client, session: Session, team: Team) -> None:
    signed_post(client, "/ivr/voice", call_params())
    signed_post(client, "/ivr/voice", call_params())
    signed_post(client, "/ivr/gather?step=main_menu&n=0", call_params(Digits="1"))
    signed_post(client, "/ivr/gather?step=severity&n=1", call_params(Digits="1"))
    first = signed_post(client, "/ivr/gather?step=callback_choice&n=2", call_params(Digits="1"))
    again = signed_post(client, "/ivr/gather?step=callback_choice&n=2", call_params(Digits="1"))
    late = signed_post(client, "/ivr/gather?step=main_menu&n=0", call_params(Digits="2"))

    assert first.data == again.data == late.data, "a replay is answered with the call's current TwiML"
    assert rows(session, Ticket) == 1 and rows(session, CallLog) == 1
    kinds = session.scalars(select(CallEvent.kind)).all()
    assert kinds.count("ticket_opened") == 1 and kinds.count("call_started") == 1

    for _ in range(2):
        signed_post(client, "/ivr/status", call_params(CallStatus="completed", CallDuration="42"))
    session.commit()
    assert session.scalars(select(CallEvent.kind)).all().count("status") == 1


def test_a_replayed_whisper_acceptance_records_one_first_response(client, session: Session, team: Team) -> None:
    for path, digits in [("/ivr/voice", None), ("/ivr/gather?step=main_menu&n=0", "1"),
                         ("/ivr/gather?step=severity&n=1", "2"), ("/ivr/gather?step=callback_choice&n=2", "1")]:
        signed_post(client, path, call_params(**({"Digits": digits} if digits else {})))
    child = {"CallSid": "CA" + "cd" * 16, "ParentCallSid": CALL_SID, "From": CALLER, "To": PRIYA, "Digits": "1"}
    for _ in range(2):
        twiml_of(signed_post(client, f"/ivr/whisper-answer?call={CALL_SID}&target=0", child))
    session.commit()
    ticket = session.scalar(select(Ticket))
    assert ticket.responded_by == "Priya Raman"
    assert [e.kind for e in ticket.events].count("first_response") == 1


# ----------------------------------------------------------------------------- garbage

GARBAGE = ["abc", "9" * 5000, "'; DROP TABLE tickets; --", "１２３", "\u202e\u0000", "<Response/>", ""]


@pytest.mark.parametrize("garbage", GARBAGE)
@pytest.mark.parametrize("step", ["main_menu", "severity", "callback_choice", "callback_entry", "ticket_lookup"])
def test_garbage_at_any_menu_gets_a_reprompt(client, session: Session, team: Team, garbage: str, step: str) -> None:
    signed_post(client, "/ivr/voice", call_params())
    call = session.scalar(select(CallLog))
    call.step = step
    call.caller_id = CALLER
    session.commit()
    root = twiml_of(signed_post(client, f"/ivr/gather?step={step}&n=0", call_params(Digits=garbage, SpeechResult=garbage)))
    gather = root.find("Gather")
    assert gather is not None, "the caller is asked again"
    assert f"step={step}" in gather.get("action")
    assert rows(session, Ticket) == 0


def no_webhook_failed(app) -> bool:
    """True when no webhook fell into the error handler (which spools the request)."""
    return spooled_entries(app_settings(app).spool_dir) == []


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/ivr/gather?step=main_menu&n=zzz", "Gather"),  # a stale or forged step: the current menu again
        ("/ivr/gather", "Gather"),
        ("/ivr/dial-result?n=-1", "Gather"),
        ("/ivr/recorded?n=", "Gather"),
        (f"/ivr/whisper?call={CALL_SID}&target=99", "Hangup"),  # the engineer's leg: passed on
        ("/ivr/whisper?call=x&target=a", "Hangup"),
        ("/ivr/whisper-answer?target=0", "Hangup"),
    ],
)
def test_garbage_in_the_query_string_gets_the_current_step_again(app, client, team: Team, path: str, expected: str) -> None:
    signed_post(client, "/ivr/voice", call_params())
    root = twiml_of(signed_post(client, path, call_params(Digits="1", DialCallStatus="completed", RecordingUrl="x")))
    assert root.find(expected) is not None
    if expected == "Gather":
        assert root.find("Gather").get("action") == "/ivr/gather?step=main_menu&n=0"
    assert no_webhook_failed(app)


@pytest.mark.parametrize("missing", ["From", "To", "Digits"])
def test_a_missing_field_still_gets_the_menu(app, client, session: Session, missing: str) -> None:
    params = call_params(Digits="1")
    params.pop(missing)
    root = twiml_of(signed_post(client, "/ivr/voice", params))
    assert root.find("Gather").get("action") == "/ivr/gather?step=main_menu&n=0"
    assert no_webhook_failed(app) and rows(session, CallLog) == 1


def test_a_request_without_a_call_sid_gets_the_fallback_and_records_nothing(app, client, session: Session) -> None:
    params = call_params()
    params.pop("CallSid")
    root = twiml_of(signed_post(client, "/ivr/voice", params))
    assert root.find("Record") is not None, "no fallback number: the caller can still leave a message"
    assert rows(session, CallLog) == 0


def test_status_callback_for_a_call_never_seen_still_logs_it(client, session: Session) -> None:
    twiml_of(signed_post(client, "/ivr/status", call_params(CallStatus="no-answer", CallDuration="abc")))
    session.commit()
    row = session.scalar(select(CallLog))
    assert row.status == "no-answer" and row.outcome == "abandoned" and row.duration is None


# ----------------------------------------------------------------------------- statelessness


def test_a_call_can_move_between_web_processes(make_app, session: Session, team: Team) -> None:
    """Two app instances (as two gunicorn workers or hosts) serve alternate webhooks of one call."""
    clients = cycle([make_app().test_client(), make_app().test_client()])

    class Alternating:
        def post(self, url: str, params: dict[str, str], headers: dict[str, str]) -> Reply:
            return FlaskClientTransport(next(clients)).post(url, params, headers)

    record = place_call(voice_url=f"{PUBLIC_BASE}/ivr/voice", status_callback_url=f"{PUBLIC_BASE}/ivr/status",
                        auth_token=AUTH_TOKEN, transport=Alternating(), caller=ScriptedCaller(["1", "2", "2", "4155550123#", "1"]),
                        engineers=["accept"], from_number=CALLER)
    session.commit()
    ticket = session.scalar(select(Ticket))
    assert ticket.severity == "high" and ticket.callback_number == "+14155550123"
    assert ticket.responded_by == "Priya Raman"
    assert session.scalar(select(CallLog)).outcome == "connected"
    assert record.status == "completed"


# ----------------------------------------------------------------------------- the database is down


@pytest.fixture
def broken_database(env: dict[str, str], tmp_path) -> dict[str, str]:
    """Settings that point at a database that does not answer."""
    return {**env, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nothing"}


def test_a_broken_database_still_gets_the_caller_to_the_fallback_number(make_app, broken_database) -> None:
    app = make_app(DATABASE_URL=broken_database["DATABASE_URL"], FALLBACK_NUMBER=FALLBACK)
    root = twiml_of(signed_post(app.test_client(), "/ivr/voice", call_params()))
    assert root.find("Dial/Number").text == FALLBACK
    spooled = spooled_entries(app_settings(app).spool_dir)
    assert len(spooled) == 1 and json.loads(spooled[0].read_text())["params"]["CallSid"] == CALL_SID


def test_every_webhook_answers_twiml_when_the_database_is_down(make_app, broken_database) -> None:
    client = make_app(DATABASE_URL=broken_database["DATABASE_URL"], FALLBACK_NUMBER=FALLBACK).test_client()
    for path in ["/ivr/gather?step=severity&n=1", "/ivr/dial-result?n=3", "/ivr/recorded?n=3"]:
        root = twiml_of(signed_post(client, path, call_params(Digits="1")))
        assert root.find("Dial/Number").text == FALLBACK
    for path in ["/ivr/status", f"/ivr/transcript?call={CALL_SID}"]:
        assert len(twiml_of(signed_post(client, path, call_params(CallStatus="completed")))) == 0
    for path in [f"/ivr/whisper?call={CALL_SID}&target=0", f"/ivr/whisper-answer?call={CALL_SID}&target=0"]:
        root = twiml_of(signed_post(client, path, call_params(Digits="1")))
        assert root.find("Dial") is None and root.find("Hangup") is not None, "an engineer's leg may not Dial"
    for path in ["/ivr/engineer-callback?notification=1", "/ivr/engineer-callback/answer?notification=1",
                 "/ivr/engineer-callback/result?notification=1"]:
        root = twiml_of(signed_post(client, path, call_params(Digits="1")))
        assert root.find("Say").text == prompts.CALLBACK_UNAVAILABLE and root.find("Hangup") is not None
        assert root.find("Dial") is None, "an engineer's callback leg is not sent to the fallback number"
    assert len(twiml_of(signed_post(client, "/ivr/engineer-callback/status?notification=1", call_params()))) == 0


def test_a_failed_webhook_still_answers_when_its_spool_cannot_be_written(make_app, broken_database,
                                                                           tmp_path) -> None:
    app = make_app(DATABASE_URL=broken_database["DATABASE_URL"], FALLBACK_NUMBER=FALLBACK)
    spool_dir = app_settings(app).spool_dir
    spool_dir.parent.mkdir(parents=True, exist_ok=True)
    spool_dir.write_text("a file where the spool directory should be")
    response = signed_post(app.test_client(), "/ivr/gather?step=severity&n=1", call_params(Digits="1"))
    assert response.status_code == 200 and twiml_of(response).find("Dial/Number").text == FALLBACK


def test_the_fallback_url_dials_the_fallback_number_without_the_database(make_app, broken_database) -> None:
    client = make_app(DATABASE_URL=broken_database["DATABASE_URL"], FALLBACK_NUMBER=FALLBACK).test_client()
    root = twiml_of(signed_post(client, "/ivr/fallback", call_params(ErrorCode="11200")))
    assert [el.tag for el in root] == ["Say", "Say", "Dial"]
    assert root.find("Dial/Number").text == FALLBACK


def test_without_a_fallback_number_the_voicemail_is_spooled_and_replayed_onto_a_ticket(
    make_app, broken_database, env, session: Session
) -> None:
    down = make_app(DATABASE_URL=broken_database["DATABASE_URL"])
    record = place_call(voice_url=f"{PUBLIC_BASE}/ivr/fallback", status_callback_url=None, auth_token=AUTH_TOKEN,
                        transport=FlaskClientTransport(down.test_client()),
                        caller=ScriptedCaller([Voicemail("Payments are down, call 415 555 0123")]), from_number=CALLER,
                        call_sid=CALL_SID)
    assert record.ended_by == "hangup-verb"
    assert "We have your message" in " ".join(record.heard)
    spool_dir = app_settings(down).spool_dir
    assert len(spooled_entries(spool_dir)) == 3  # the call, the recording, the transcript

    up = make_app()
    with up.app_context():
        assert replay_spool(session, spool_dir, Line.of(app_settings(up))) == 3
    assert spooled_entries(spool_dir) == []
    session.commit()
    ticket = session.scalar(select(Ticket))
    assert ticket.recording_url == record.recordings[0].url
    assert ticket.transcript == "Payments are down, call 415 555 0123"
    assert ticket.caller_number == CALLER and ticket.call_sid == CALL_SID
    assert session.scalar(select(CallLog)).outcome == "voicemail"


def test_hanging_up_while_engineers_ring_keeps_the_ticket_and_logs_a_missed_call(client, session: Session, team: Team) -> None:
    for path, digits in [("/ivr/voice", None), ("/ivr/gather?step=main_menu&n=0", "1"),
                         ("/ivr/gather?step=severity&n=1", "1"), ("/ivr/gather?step=callback_choice&n=2", "1")]:
        signed_post(client, path, call_params(**({"Digits": digits} if digits else {})))
    twiml_of(signed_post(client, "/ivr/status", call_params(CallStatus="completed", CallDuration="31")))
    # Twilio still reports how the interrupted Dial ended; it changes nothing any more.
    twiml_of(signed_post(client, "/ivr/dial-result?n=3", call_params(DialCallStatus="canceled")))
    session.commit()
    row = session.scalar(select(CallLog))
    assert row.outcome == "missed" and row.duration == 31
    ticket = session.scalar(select(Ticket))
    assert ticket.severity == "critical" and ticket.first_response_at is None
    assert "caller_hung_up" in [e.kind for e in ticket.events]
    assert [e.kind for e in row.events].count("dial") == 1


def test_sqlite_runs_with_wal_a_busy_timeout_and_foreign_keys(app) -> None:
    from sqlalchemy import text

    engine = app_engine(app)
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite settings; this run is on PostgreSQL")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 10000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_the_spool_drains_by_itself_after_the_next_call_ends(make_app, broken_database, client, session: Session, clock) -> None:
    down = make_app(DATABASE_URL=broken_database["DATABASE_URL"])
    voicemail = call_params(RecordingUrl="https://api.twilio.com/rec/RE1", RecordingDuration="12")
    twiml_of(signed_post(down.test_client(), "/ivr/fallback/recorded", voicemail))
    spool_dir = app_settings(down).spool_dir
    assert len(spooled_entries(spool_dir)) == 1

    other_call = {**call_params(CallStatus="completed"), "CallSid": "CA" + "99" * 16}
    twiml_of(signed_post(client, "/ivr/status", other_call))
    assert spooled_entries(spool_dir) == [] and list(spool_dir.iterdir()) == []
    session.commit()
    ticket = session.scalar(select(Ticket).where(Ticket.call_sid == CALL_SID))
    assert ticket.recording_url == "https://api.twilio.com/rec/RE1"


def test_a_spool_entry_claimed_by_another_process_is_not_replayed_twice(app, session: Session, clock) -> None:
    from ivr.spool import spool_request

    spool_dir = app_settings(app).spool_dir
    path = spool_request(spool_dir, "voicemail", "/ivr/fallback/recorded",
                         call_params(RecordingUrl="https://r/2"), clock.now)
    path.rename(path.with_name(path.name.split(".")[0] + ".other.claimed"))  # a live claim
    with app.app_context():
        assert replay_spool(session, spool_dir, Line.of(app_settings(app))) == 0
    assert session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_a_spool_entry_that_failed_after_opening_its_ticket_does_not_spoil_the_next_ones(
    app, session: Session, clock
) -> None:
    from ivr.spool import spool_request

    spool_dir = app_settings(app).spool_dir
    damaged = spool_request(spool_dir, "voicemail", "/ivr/fallback/recorded",
                            call_params(CallSid="CA" + "11" * 16, RecordingUrl="https://r/1"), clock.now)
    spool_request(spool_dir, "voicemail", "/ivr/fallback/recorded",
                  call_params(CallSid="CA" + "22" * 16, RecordingUrl="https://r/2"), clock.now)
    # Damaged by hand: the replay opens the first entry's ticket, then cannot store its recording.
    entry = json.loads(damaged.read_text())
    entry["params"]["RecordingUrl"] = {"url": "https://r/1"}
    damaged.write_text(json.dumps(entry))
    with app.app_context():
        assert replay_spool(session, spool_dir, Line.of(app_settings(app))) == 1
    session.commit()
    assert session.scalars(select(Ticket.recording_url)).all() == ["https://r/2"]
    assert sorted(p.suffix for p in spool_dir.iterdir()) == [".bad"]


@pytest.mark.parametrize("field", ["CallDuration", "RecordingDuration"])
def test_an_absurd_duration_is_kept_as_unknown_live_and_when_replayed(app, client, session: Session, clock, field) -> None:
    from ivr import spool

    absurd = "9" * 30
    signed_post(client, "/ivr/voice", call_params())
    signed_post(client, "/ivr/status", call_params(CallStatus="completed", **{field: absurd}))
    row = session.scalar(select(CallLog).where(CallLog.call_sid == CALL_SID))
    assert row is not None and row.status == "completed" and row.duration is None

    spool_dir = app_settings(app).spool_dir
    spool.spool_request(spool_dir, "voicemail", "/ivr/fallback/recorded",
                        call_params(CallSid="CA" + "77" * 16, RecordingUrl="https://r/7", **{field: absurd}), clock.now)
    spool.spool_request(spool_dir, "webhook", "/ivr/status",
                        call_params(CallSid="CA" + "77" * 16, CallStatus="completed", **{field: absurd}), clock.now)
    with app.app_context():
        assert replay_spool(session, spool_dir, Line.of(app_settings(app))) == 2
    session.commit()
    assert session.scalar(select(Ticket.recording_url).where(Ticket.call_sid == "CA" + "77" * 16)) == "https://r/7"


def test_a_recording_that_arrives_after_the_status_callback_still_lands_on_the_ticket(client, session: Session) -> None:
    """A caller who hangs up mid-message: Twilio may send the status callback before the Record action."""
    for path, digits in [("/ivr/voice", None), ("/ivr/gather?step=main_menu&n=0", "1"),
                         ("/ivr/gather?step=severity&n=1", "1"), ("/ivr/gather?step=callback_choice&n=2", "1")]:
        signed_post(client, path, call_params(**({"Digits": digits} if digits else {})))
    signed_post(client, "/ivr/status", call_params(CallStatus="completed", CallDuration="40"))
    signed_post(client, "/ivr/recorded?n=3", call_params(RecordingUrl="https://api.twilio.com/rec/RE9",
                                                       RecordingDuration="20", Digits="hangup"))
    session.commit()
    assert session.scalar(select(Ticket)).recording_url == "https://api.twilio.com/rec/RE9"
    assert session.scalar(select(CallLog)).outcome == "voicemail"


def test_spooled_keys_and_status_callbacks_are_applied_when_replayed(app, make_app, broken_database, client,
                                                                     session: Session, team: Team) -> None:
    """The database went down mid-call: the keys pressed then and the hang-up still count."""
    signed_post(client, "/ivr/voice", call_params())
    signed_post(client, "/ivr/gather?step=main_menu&n=0", call_params(Digits="1"))
    down = make_app(DATABASE_URL=broken_database["DATABASE_URL"]).test_client()
    signed_post(down, "/ivr/gather?step=severity&n=1", call_params(Digits="2"))
    signed_post(down, "/ivr/status", call_params(CallStatus="completed", CallDuration="25"))


    with app.app_context():
        assert replay_spool(session, app_settings(app).spool_dir, Line.of(app_settings(app))) == 2
    session.commit()
    ticket = session.scalar(select(Ticket))
    assert ticket.severity == "high" and ticket.callback_number == CALLER
    call = session.scalar(select(CallLog))
    assert call.ended_at is not None and call.duration == 25 and call.outcome == "abandoned"


def test_an_entry_that_cannot_be_replayed_is_set_aside_and_does_not_block_the_rest(app, session: Session, clock) -> None:
    from ivr.spool import spool_request

    spool_dir = app_settings(app).spool_dir
    spool_dir.mkdir(parents=True, exist_ok=True)
    (spool_dir / "00000000000000000000-broken.json").write_text("{not json")
    spool_request(spool_dir, "voicemail", "/ivr/fallback/recorded", call_params(RecordingUrl="https://r/3"), clock.now)
    with app.app_context():
        assert replay_spool(session, spool_dir, Line.of(app_settings(app))) == 1
    assert [p.name for p in spool_dir.iterdir()] == ["00000000000000000000-broken.bad"]
    assert session.scalar(select(Ticket)).recording_url == "https://r/3"


def test_an_old_entry_claimed_now_is_not_stolen_as_a_stale_claim(app, session: Session, clock) -> None:
    import os

    from sqlalchemy import event

    from ivr.spool import spool_request

    spool_dir = app_settings(app).spool_dir
    path = spool_request(spool_dir, "voicemail", "/x", call_params(RecordingUrl="https://r/4"), clock.now)
    an_hour_ago = path.stat().st_mtime - 3600
    os.utime(path, (an_hour_ago, an_hour_ago))
    second_worker: list[int] = []

    def another_worker_looks_while_the_first_commits(_session: Session) -> None:
        with Session(app_engine(app)) as other:
            second_worker.append(replay_spool(other, spool_dir, Line.of(app_settings(app))))

    event.listen(session, "before_commit", another_worker_looks_while_the_first_commits, once=True)
    with app.app_context():
        assert replay_spool(session, spool_dir, Line.of(app_settings(app))) == 1
    assert second_worker == [0]
    assert session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_two_copies_of_one_webhook_at_once_open_one_ticket(make_app, session: Session, team: Team) -> None:
    import threading

    app = make_app()
    client = app.test_client()
    for path, digits in [("/ivr/voice", None), ("/ivr/gather?step=main_menu&n=0", "1"),
                         ("/ivr/gather?step=severity&n=1", "1")]:
        signed_post(client, path, call_params(**({"Digits": digits} if digits else {})))
    answers: list[bytes] = []
    start = threading.Barrier(2)

    def deliver() -> None:
        start.wait()
        answers.append(signed_post(app.test_client(), "/ivr/gather?step=callback_choice&n=2", call_params(Digits="1")).data)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers[0] == answers[1] and b"<Dial" in answers[0]
    assert rows(session, Ticket) == 1
    assert no_webhook_failed(app)
