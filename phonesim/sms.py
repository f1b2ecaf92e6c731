"""SMS: deliver a message to the line's "A message comes in" webhook as Twilio does, and read its reply."""

from __future__ import annotations

from phonesim.transports import API_VERSION, DEFAULT_ACCOUNT_SID, Transport, check_status, new_sid, signed_request
from phonesim.twiml import text_of, twiml_of


def send_sms(
    *,
    sms_url: str,
    auth_token: str,
    transport: Transport,
    from_number: str,
    to_number: str,
    body: str,
    account_sid: str = DEFAULT_ACCOUNT_SID,
) -> tuple[int, list[str]]:
    """Post an incoming-SMS webhook as Twilio does; the reply status and its <Message> texts."""
    sid = new_sid("SM")
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": account_sid,
        "From": from_number,
        "To": to_number,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": API_VERSION,
    }
    _, reply = signed_request(transport, auth_token, "POST", sms_url, params)
    check_status(sms_url, reply)
    if not reply.body.strip():
        return reply.status, []  # an empty answer sends no reply message
    texts = []
    for message in twiml_of(sms_url, reply).iter("Message"):
        body_element = message.find("Body")
        texts.append(text_of(body_element if body_element is not None else message))
    return reply.status, texts
