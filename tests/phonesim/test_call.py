"""The call itself: the request envelope, each verb as Twilio executes it, both legs, and the call's record."""

import re

import pytest

from phonesim import (
    HANGUP,
    SILENCE,
    FlaskClientTransport,
    Speech,
    TooManySteps,
    TwimlError,
    Voicemail,
    WebhookError,
    report_hang_up,
)
from tests.phonesim.line import (
    BASE,
    CALL_SID,
    CALLER,
    EMPTY,
    ENGINEER,
    LINE_NUMBER,
    TOKEN,
    call,
    hit,
    make_line,
    paths,
)


# --- the request envelope ------------------------------------------------------------------


def test_the_first_request_rings_and_later_ones_are_in_progress_with_twilio_params():
    app = make_line()

    record = call(app, ["3", HANGUP], caller_name="ADA LOVELACE", from_number=CALLER)

    first, second = app.hits[0].values, app.hits[1].values
    assert CALL_SID.match(first["CallSid"]) and record.call_sid == first["CallSid"] == second["CallSid"]
    assert first["CallStatus"] == "ringing" and second["CallStatus"] == "in-progress"
    assert first["AccountSid"] == "AC" + "0" * 32
    assert first["ApiVersion"] == "2010-04-01"
    assert first["Direction"] == "inbound"
    assert first["From"] == first["Caller"] == CALLER
    assert first["To"] == first["Called"] == LINE_NUMBER
    assert first["CallerName"] == "ADA LOVELACE"
    assert second["Digits"] == "3"


def test_caller_name_is_absent_unless_given_and_a_given_call_sid_is_used():
    app = make_line()
    sid = "CA" + "ab" * 16

    call(app, [SILENCE], call_sid=sid)

    assert "CallerName" not in app.hits[0].values
    assert app.hits[0].values["CallSid"] == sid


# --- Gather -----------------------------------------------------------------------------------


def test_gather_posts_the_digits_to_its_action_resolved_against_the_document_url():
    app = make_line()

    call(app, ["2", HANGUP])

    assert paths(app)[:3] == ["/ivr/voice", "/ivr/menu", "/ivr/voicemail"]
    assert hit(app, "/ivr/menu")["Digits"] == "2"


def test_finish_on_key_ends_input_and_is_reported_apart_from_the_digits():
    app = make_line(
        ivr__voice='<Response><Gather action="account"><Say>Your number, then hash.</Say></Gather></Response>',
        ivr__account=EMPTY,
    )

    call(app, ["4155550123#"])

    assert hit(app, "/ivr/account")["Digits"] == "4155550123"
    assert hit(app, "/ivr/account")["FinishedOnKey"] == "#"


def test_a_custom_finish_on_key_drops_what_follows_it():
    app = make_line(ivr__voice='<Response><Gather action="account" finishOnKey="*"/></Response>', ivr__account=EMPTY)

    call(app, ["12*34"])

    assert hit(app, "/ivr/account")["Digits"] == "12"
    assert hit(app, "/ivr/account")["FinishedOnKey"] == "*"


def test_num_digits_truncates_extra_keys():
    app = make_line(ivr__voice='<Response><Gather action="account" numDigits="3"/></Response>', ivr__account=EMPTY)

    call(app, ["12345"])

    assert hit(app, "/ivr/account")["Digits"] == "123"
    assert hit(app, "/ivr/account")["FinishedOnKey"] == ""


def test_digits_without_the_finish_key_are_sent_when_the_timeout_ends_input():
    app = make_line(ivr__voice='<Response><Gather action="account" timeout="4"/></Response>', ivr__account=EMPTY)

    record = call(app, ["42"])

    assert hit(app, "/ivr/account")["Digits"] == "42"
    assert record.duration == 2 + 4  # one second a key, then the timeout


def test_silence_at_a_gather_falls_through_to_the_next_verb():
    app = make_line()

    record = call(app, [SILENCE])

    assert "/ivr/menu" not in paths(app)
    assert record.heard[-1] == "We did not hear you. Goodbye."
    assert record.ended_by == "hangup-verb"


def test_action_on_empty_result_posts_the_action_even_when_silent():
    app = make_line(ivr__voice='<Response><Gather action="menu" actionOnEmptyResult="true" numDigits="1"/></Response>')

    call(app, [SILENCE, HANGUP])

    assert "Digits" not in app.hits[1].values
    assert app.hits[1].path == "/ivr/menu"


def test_a_gather_without_action_posts_back_to_the_current_document():
    def voice(values):
        if "Digits" in values:
            return f"<Response><Say>You pressed {values['Digits']}.</Say></Response>"
        return '<Response><Gather numDigits="1"/></Response>'

    app = make_line(ivr__voice=voice)

    record = call(app, ["7"])

    assert paths(app) == ["/ivr/voice", "/ivr/voice", "/ivr/status"]
    assert record.heard == ["You pressed 7."]


def test_speech_posts_speech_result_and_confidence_without_digits():
    app = make_line(
        ivr__voice='<Response><Gather input="speech" action="severity"><Say>How bad is it?</Say></Gather></Response>',
        ivr__severity=EMPTY,
    )

    call(app, [Speech("critical", confidence=0.87)])

    assert hit(app, "/ivr/severity")["SpeechResult"] == "critical"
    assert hit(app, "/ivr/severity")["Confidence"] == "0.87"
    assert "Digits" not in hit(app, "/ivr/severity")


@pytest.mark.parametrize(
    "listens_for, answer",
    [("speech", "1"), ("dtmf", Speech("critical"))],
    ids=["keys-at-a-speech-gather", "words-at-a-keypad-gather"],
)
def test_input_the_gather_does_not_listen_for_counts_as_no_input(listens_for, answer):
    app = make_line(
        ivr__voice=f'<Response><Gather input="{listens_for}" action="menu"/><Say>Nothing heard.</Say></Response>'
    )

    record = call(app, [answer])

    assert "/ivr/menu" not in paths(app)
    assert record.heard == ["Nothing heard."]


def test_a_dtmf_speech_gather_takes_either_input():
    app = make_line(ivr__voice='<Response><Gather input="dtmf speech" action="next"/></Response>', ivr__next=EMPTY)

    call(app, [Speech("the database")])
    call(app, ["5#"])

    answers = [h.values for h in app.hits if h.path == "/ivr/next"]
    assert answers[0]["SpeechResult"] == "the database"
    assert answers[1]["Digits"] == "5"


def test_hanging_up_at_a_gather_makes_no_action_request_and_reports_completed():
    app = make_line()

    record = call(app, [HANGUP])

    assert paths(app) == ["/ivr/voice", "/ivr/status"]
    assert record.ended_by == "caller-hangup"
    assert hit(app, "/ivr/status")["CallStatus"] == "completed"


# --- Redirect, GET and the end of a call --------------------------------------------------------


def test_redirect_resolves_relative_urls_and_get_puts_the_params_in_the_signed_query():
    app = make_line(
        ivr__voice="<Response><Redirect>../other/place?step=1</Redirect></Response>",
        other__place='<Response><Redirect method="GET">next</Redirect></Response>',
        other__next="<Response><Say>Arrived.</Say></Response>",
    )

    record = call(app)

    requested = [(h.method, h.path) for h in app.hits[:3]]
    assert requested == [("POST", "/ivr/voice"), ("POST", "/other/place"), ("GET", "/other/next")]
    assert app.hits[1].values["step"] == "1"
    assert app.hits[2].values["CallSid"] == record.call_sid
    assert record.requests[2].url.startswith(f"{BASE}/other/next?")
    assert record.heard == ["Arrived."]


def test_a_gather_with_method_get_keeps_its_own_query_and_adds_the_digits():
    app = make_line(
        ivr__voice='<Response><Gather method="GET" action="pick?from=menu" numDigits="1"/></Response>',
        ivr__pick=EMPTY,
    )

    call(app, ["8"])

    assert app.hits[1].method == "GET"
    assert app.hits[1].values["from"] == "menu"
    assert app.hits[1].values["Digits"] == "8"


def test_when_verbs_run_out_the_call_ends():
    app = make_line(ivr__voice="<Response><Say>Short call.</Say></Response>")

    record = call(app)

    assert record.ended_by == "no-more-verbs"
    assert record.status == "completed"


def test_the_status_callback_reports_the_duration_of_the_simulated_clock():
    app = make_line(
        ivr__voice='<Response><Say>One. Two. Three.</Say><Pause length="4"/><Gather timeout="7"/><Hangup/></Response>'
    )

    record = call(app, [SILENCE])

    status = hit(app, "/ivr/status")
    assert status["CallStatus"] == "completed"
    assert status["CallDuration"] == "14" == str(record.duration)  # 3 sentences + pause 4 + timeout 7
    assert status["CallbackSource"] == "call-progress-events"
    assert status["SequenceNumber"] == "0"
    assert status["CallSid"] == record.call_sid
    assert re.match(r"^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$", status["Timestamp"])


@pytest.mark.parametrize("reason, status", [("busy", "busy"), ("rejected", "no-answer")])
def test_reject_before_answering_ends_busy_or_no_answer_with_no_duration(reason, status):
    app = make_line(ivr__voice=f'<Response><Reject reason="{reason}"/><Say>Unreachable.</Say></Response>')

    record = call(app)

    assert record.ended_by == "reject"
    assert hit(app, "/ivr/status")["CallStatus"] == status
    assert hit(app, "/ivr/status")["CallDuration"] == "0"
    assert record.heard == []


# --- Dial ---------------------------------------------------------------------------------------


def test_an_engineer_who_accepts_the_whisper_is_bridged_and_twilio_reports_completed():
    app = make_line()

    record = call(app, ["1"], ["accept"])

    done = hit(app, "/ivr/dial-done")
    assert done["DialCallStatus"] == "completed"
    assert done["DialBridged"] == "true"
    assert done["DialCallDuration"] == str(2 + 1 + 1 + 60)  # whisper, key, "Connecting.", talk
    assert CALL_SID.match(done["DialCallSid"]) and done["DialCallSid"] != record.call_sid
    assert record.dials[0].bridged and record.dials[0].behaviour == "accept"
    assert record.dials[0].whisper == "Support call from the test line. Press 1 to accept. Connecting."
    assert hit(app, "/ivr/whisper-answer")["Digits"] == "1"
    assert record.heard[-1] == "Thanks for calling."


def test_an_engineer_who_refuses_is_not_bridged_yet_dial_call_status_is_completed():
    app = make_line()

    record = call(app, ["1", HANGUP], ["refuse"])

    done = hit(app, "/ivr/dial-done")
    assert hit(app, "/ivr/whisper-answer")["Digits"] == "9"
    assert done["DialCallStatus"] == "completed"
    assert done["DialBridged"] == "false"
    assert record.dials[0].dial_call_status == "completed" and not record.dials[0].bridged
    assert "Nobody is available." in record.heard


def test_a_silent_engineer_falls_through_the_whisper_gather_to_its_hangup():
    app = make_line()

    record = call(app, ["1", HANGUP], ["silent"])

    assert "/ivr/whisper-answer" not in paths(app)
    assert record.dials[0].whisper.endswith("No answer. Goodbye.")
    assert hit(app, "/ivr/dial-done")["DialBridged"] == "false"


def test_a_whisper_that_runs_out_of_verbs_bridges_even_a_silent_engineer():
    app = make_line(
        ivr__whisper='<Response><Gather numDigits="1" action="whisper-answer"><Say>Press 1.</Say></Gather></Response>'
    )

    record = call(app, ["1"], ["silent"])

    assert record.dials[0].bridged
    assert hit(app, "/ivr/dial-done")["DialBridged"] == "true"


def test_the_whisper_leg_is_a_child_call_dialled_from_the_caller_id():
    app = make_line()

    record = call(app, ["1"], ["accept"])

    leg = hit(app, "/ivr/whisper")
    assert CALL_SID.match(leg["CallSid"]) and leg["CallSid"] != record.call_sid
    assert leg["ParentCallSid"] == record.call_sid
    assert leg["Direction"] == "outbound-dial"
    assert leg["CallStatus"] == "in-progress"
    assert leg["To"] == ENGINEER
    assert leg["From"] == LINE_NUMBER  # the Dial's callerId
    assert leg["AccountSid"] == "AC" + "0" * 32
    assert hit(app, "/ivr/dial-done")["DialCallSid"] == leg["CallSid"]


@pytest.mark.parametrize("behaviour", ["no-answer", "busy", "failed"])
def test_an_unanswered_dial_reports_its_status_and_never_fetches_the_whisper(behaviour):
    app = make_line()

    record = call(app, ["1", HANGUP], [behaviour])

    done = hit(app, "/ivr/dial-done")
    assert done["DialCallStatus"] == behaviour
    assert "DialCallDuration" not in done
    assert "/ivr/whisper" not in paths(app)
    assert record.dials[0].dial_call_status == behaviour


def test_running_out_of_engineers_means_no_answer_after_the_dial_timeout():
    app = make_line(ivr__voice=f'<Response><Dial timeout="10">{ENGINEER}</Dial><Say>The dial is over.</Say></Response>')

    record = call(app, [], [])

    assert record.dials[0].dial_call_status == "no-answer"
    assert record.heard == ["The dial is over."]  # no action: the next verb runs
    assert record.duration == 10 + 1


def test_a_number_dialled_without_url_is_bridged_whoever_answers():
    app = make_line(ivr__support=f'<Response><Dial action="dial-done">{ENGINEER}</Dial></Response>')

    record = call(app, ["1"], ["refuse"])

    assert record.dials[0].bridged
    assert hit(app, "/ivr/dial-done")["DialBridged"] == "true"
    assert hit(app, "/ivr/dial-done")["From"] == CALLER


def test_answer_on_bridge_leaves_an_unbridged_call_unanswered():
    app = make_line(
        ivr__voice=f'<Response><Dial answerOnBridge="true" action="after">{ENGINEER}</Dial></Response>',
        ivr__after=EMPTY,
    )

    record = call(app, [], ["busy"])

    assert hit(app, "/ivr/after")["CallStatus"] == "ringing"
    assert record.status == "no-answer"


def test_a_dial_inside_the_whisper_is_refused_as_twilio_does():
    app = make_line(ivr__whisper="<Response><Dial>+14155550999</Dial></Response>")

    with pytest.raises(TwimlError, match="not allowed"):
        call(app, ["1"], ["accept"])


# --- Record ----------------------------------------------------------------------------------


def test_a_voicemail_posts_the_recording_then_the_callbacks_after_the_call():
    app = make_line()

    record = call(app, ["2", Voicemail("my server is down", seconds=12)])

    assert paths(app)[-4:] == ["/ivr/recorded", "/ivr/status", "/ivr/recording-status", "/ivr/transcribed"]
    recorded = hit(app, "/ivr/recorded")
    assert re.match(r"^RE[0-9a-f]{32}$", recorded["RecordingSid"])
    account = "AC" + "0" * 32
    assert recorded["RecordingUrl"] == (
        f"https://api.twilio.com/2010-04-01/Accounts/{account}/Recordings/{recorded['RecordingSid']}"
    )
    assert recorded["RecordingDuration"] == "12"
    assert "Digits" not in recorded  # the silence timeout ended it
    transcribed = hit(app, "/ivr/transcribed")
    assert transcribed["TranscriptionText"] == "my server is down"
    assert transcribed["TranscriptionStatus"] == "completed"
    assert re.match(r"^TR[0-9a-f]{32}$", transcribed["TranscriptionSid"])
    assert transcribed["TranscriptionUrl"].endswith(transcribed["TranscriptionSid"])
    assert transcribed["RecordingSid"] == recorded["RecordingSid"]
    assert transcribed["RecordingUrl"] == recorded["RecordingUrl"]
    assert (transcribed["CallSid"], transcribed["From"], transcribed["To"]) == (record.call_sid, CALLER, LINE_NUMBER)
    assert hit(app, "/ivr/recording-status")["RecordingStatus"] == "completed"
    assert record.recordings[0].text == "my server is down" and record.recordings[0].transcribed
    assert record.heard[-1] == "Thank you. Goodbye."


def test_a_transcribe_callback_without_transcribe_true_gets_nothing():
    app = make_line(ivr__voicemail='<Response><Record action="recorded" transcribeCallback="transcribed"/></Response>')

    record = call(app, ["2", Voicemail("hello", seconds=3)])

    assert "/ivr/transcribed" not in paths(app)
    assert not record.recordings[0].transcribed


def test_a_voicemail_ended_with_a_key_reports_the_key():
    app = make_line()

    call(app, ["2", Voicemail("disk full", seconds=4, key="#")])

    assert hit(app, "/ivr/recorded")["Digits"] == "#"


def test_silence_at_a_record_makes_no_action_request_and_runs_the_next_verb():
    app = make_line()

    record = call(app, ["2", SILENCE])

    assert "/ivr/recorded" not in paths(app)
    assert record.heard[-1] == "We got nothing."
    assert record.recordings == []


def test_hanging_up_during_a_voicemail_posts_digits_hangup_and_plays_nothing_more():
    app = make_line()

    record = call(app, ["2", Voicemail("call me back", seconds=5, hang_up=True)])

    recorded = hit(app, "/ivr/recorded")
    assert recorded["Digits"] == "hangup"
    assert recorded["CallStatus"] == "completed"
    assert "Thank you. Goodbye." not in record.heard
    assert record.ended_by == "caller-hangup"
    assert hit(app, "/ivr/status")["CallStatus"] == "completed"


# --- failures the suite must see --------------------------------------------------------------


def test_a_redirect_loop_raises_too_many_steps_with_the_call_so_far():
    app = make_line(ivr__voice="<Response><Redirect>voice</Redirect></Response>")

    with pytest.raises(TooManySteps) as error:
        call(app, max_requests=10)

    assert len(error.value.record.requests) == 10


def test_a_server_error_raises_webhook_error_with_status_and_body():
    def broken(values):
        raise RuntimeError("database is gone")

    app = make_line(ivr__menu=broken)

    with pytest.raises(WebhookError) as error:
        call(app, ["1"])

    assert error.value.status == 500
    assert "Internal Server Error" in error.value.body
    assert error.value.url == f"{BASE}/ivr/menu"


# --- the record of a call ----------------------------------------------------------------------


def test_the_transcript_reads_like_a_call_log():
    app = make_line()

    record = call(app, ["1"], ["accept"])

    lines = record.transcript().splitlines()
    assert lines[0] == "LINE: Welcome to the test line."
    assert "CALLER presses 1" in lines
    assert "  WHISPER: Support call from the test line. Press 1 to accept." in lines
    assert f"DIAL {ENGINEER} → engineer accepts (DialCallStatus completed, bridged)" in lines
    assert lines[-1] == f"STATUS completed {record.duration}s"
    assert "Thanks for calling." in record.last_twiml


# --- a call cut short ----------------------------------------------------------------------------


def test_a_hang_up_reported_for_a_cut_short_call_is_a_signed_completed_status_callback():
    app = make_line()
    sid = "CA" + "cd" * 16
    common = dict(status_callback_url=f"{BASE}/ivr/status", transport=FlaskClientTransport(app.test_client()),
                  call_sid=sid, from_number=CALLER, to_number=LINE_NUMBER)

    reply = report_hang_up(auth_token=TOKEN, **common)
    refused = report_hang_up(auth_token="another-token", **common)

    assert reply.status == 204 and refused.status == 403  # the reply, never an error: nobody is left to tell
    status = hit(app, "/ivr/status")
    assert (status["CallSid"], status["CallStatus"], status["Direction"]) == (sid, "completed", "inbound")
    assert (status["From"], status["To"], status["AccountSid"]) == (CALLER, LINE_NUMBER, "AC" + "0" * 32)
