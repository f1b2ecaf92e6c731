"""`doctor`: one line per check, what to do about each failure, exit status 1 when any fails. Twilio is
played by `responses` on its own URL shapes; the SMTP server is a real aiosmtpd (IMAP against Dovecot is
in tests/mail/test_fetcher.py)."""

from __future__ import annotations

import responses
from sqlalchemy.orm import Session

from core.heartbeat import beat
from tests.ivr.test_number_setup import LIST, WANTED, listing, number
from tests.support import FakeClock

HERE = {"voice_url": WANTED["VoiceUrl"], "voice_fallback_url": WANTED["VoiceFallbackUrl"],
        "status_callback": WANTED["StatusCallback"], "sms_url": WANTED["SmsUrl"]}


def doctor(make_app, **env: str):
    result = make_app(**env).test_cli_runner().invoke(args=["doctor"])
    lines = {line.split()[1].rstrip(":"): line for line in result.output.splitlines() if line[:4] in ("ok  ", "FAIL", "skip")}
    return result, lines


@responses.activate
def test_a_line_set_up_end_to_end_passes_every_check(make_app, session: Session, clock: FakeClock, outgoing) -> None:
    responses.add(responses.GET, LIST, json=listing(number(**HERE)))
    beat(session, "worker", clock.now)
    clock.advance(seconds=20)
    result, lines = doctor(make_app, PUBLIC_URL="https://support.example.com", MAIL_SMTP_URL=outgoing[1])
    assert result.exit_code == 0, result.output
    assert lines["database"].startswith("ok") and lines["migrations"].startswith("ok    migrations: at head (0021)")
    assert lines["twilio"] == "ok    twilio: +18005550199 (PN22222222222222222222222222222222) is on account " \
                              "AC11111111111111111111111111111111"
    assert lines["webhooks"] == ("ok    webhooks: voice, fallback, status and SMS point at "
                                 "https://support.example.com")
    assert lines["smtp"].startswith("ok    smtp: 127.0.0.1:") and "took the connection" in lines["smtp"]
    assert lines["imap"].startswith("skip  imap: MAIL_IMAP_URL is not set")
    assert lines["worker"] == "ok    worker: beat 20 s ago"
    assert result.output.splitlines()[-1] == "all 7 checks passed or were skipped as not configured"


@responses.activate
def test_each_failure_says_what_to_do_and_the_exit_status_is_1(make_app, session: Session, clock: FakeClock) -> None:
    responses.add(responses.GET, LIST, json=listing(number()))
    beat(session, "worker", clock.now)
    clock.advance(minutes=3)
    result, lines = doctor(make_app, PUBLIC_URL="https://support.example.com",
                           MAIL_SMTP_URL="smtp://127.0.0.1:1", MAIL_IMAP_URL="imap://support:x@127.0.0.1:1/INBOX")
    assert result.exit_code == 1
    assert "voice_url is https://demo.twilio.com/welcome/voice/" in lines["webhooks"]
    assert lines["webhooks"].endswith("run `flask --app app twilio-configure`")
    assert lines["smtp"].startswith("FAIL  smtp: the mail server could not be reached") and "check MAIL_SMTP_URL" in lines["smtp"]
    assert lines["imap"].startswith("FAIL  imap:") and "check MAIL_IMAP_URL" in lines["imap"]
    assert lines["worker"].startswith("FAIL  worker: last seen 2026-11-26T03:00:00+00:00; start it")
    assert result.output.splitlines()[-1] == "4 of 7 checks failed: webhooks, smtp, imap, worker"


def test_without_twilio_the_checks_that_need_it_are_skipped_with_what_that_means(make_app, session: Session,
                                                                                clock: FakeClock) -> None:
    result, lines = doctor(make_app, TWILIO_ACCOUNT_SID="")
    assert lines["twilio"].startswith("skip  twilio: TWILIO_ACCOUNT_SID is not set: calls are answered")
    assert lines["webhooks"].startswith("skip")
    assert lines["worker"].startswith("FAIL  worker: never seen")
    assert result.exit_code == 1


@responses.activate
def test_a_number_not_on_the_account_and_an_http_public_url_fail(make_app, session: Session, clock: FakeClock) -> None:
    responses.add(responses.GET, LIST, json=listing())
    result, lines = doctor(make_app, PUBLIC_URL="http://support.example.com")
    assert lines["twilio"].startswith("FAIL  twilio: +18005550199 is not a number of Twilio account")


@responses.activate
def test_a_schema_behind_the_code_says_to_upgrade(make_app, tmp_path) -> None:
    from sqlalchemy import create_engine, text

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    from core.db import upgrade_schema

    upgrade_schema(url)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0017'"))
    engine.dispose()
    result, lines = doctor(make_app, DATABASE_URL=url, TWILIO_ACCOUNT_SID="")
    assert lines["migrations"] == ("FAIL  migrations: the schema is at 0017, the code at 0021: run "
                                   "`flask --app app upgrade-db` (the Procfile's release step)")


def test_an_unreachable_database_fails_first(make_app) -> None:
    result, lines = doctor(make_app, DATABASE_URL="postgresql://nobody@127.0.0.1:1/nothing", TWILIO_ACCOUNT_SID="")
    assert result.exit_code == 1
    assert lines["database"].startswith("FAIL  database: postgresql+psycopg://nobody@127.0.0.1:1/nothing does not "
                                        "answer (OperationalError): check DATABASE_URL")
    assert lines["migrations"].startswith("FAIL  migrations: cannot read")

