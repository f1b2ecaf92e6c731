"""Reading the TwiML the line answers: the document, and its verbs' text and attributes as Twilio reads them."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from phonesim.errors import TwimlError, WebhookError
from phonesim.transports import Reply


def is_xml(content_type: str) -> bool:
    """Whether a Content-Type is one Twilio accepts TwiML in."""
    return content_type.split(";")[0].strip().lower() in ("text/xml", "application/xml")


def parse_twiml(body: str) -> ET.Element:
    """The <Response> element of a TwiML document; TwimlError if it is not one."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise TwimlError(f"not XML ({exc}): {body[:300]!r}") from None
    if root.tag != "Response":
        raise TwimlError(f"TwiML must have a <Response> root, got <{root.tag}>")
    return root


def twiml_of(url: str, reply: Reply) -> ET.Element:
    """The <Response> of the line's `reply` from `url`; WebhookError if it is not XML at all."""
    if not is_xml(reply.content_type):
        raise WebhookError(url, reply.status, reply.body, reply.content_type)
    return parse_twiml(reply.body)


def text_of(element: ET.Element) -> str:
    """The words inside `element`, whitespace collapsed as speech would."""
    # itertext keeps the words inside SSML tags such as <prosody>.
    return " ".join("".join(element.itertext()).split())


def int_attr(element: ET.Element, name: str, default: int | None) -> int | None:
    """A whole-number attribute, `default` when absent or blank; TwimlError when it is not a number."""
    raw = element.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise TwimlError(f"<{element.tag} {name}={raw!r}> is not a whole number") from None


def bool_attr(element: ET.Element, name: str, default: bool) -> bool:
    """A true/false attribute: only "true" (any case) is true; `default` when absent."""
    raw = element.get(name)
    return default if raw is None else raw.strip().lower() == "true"


def method_attr(element: ET.Element, name: str = "method") -> str:
    """The HTTP method an attribute names, POST when absent; TwimlError unless GET or POST."""
    method = (element.get(name) or "POST").upper()
    if method not in ("GET", "POST"):
        raise TwimlError(f"<{element.tag} {name}={method!r}> must be GET or POST")
    return method
