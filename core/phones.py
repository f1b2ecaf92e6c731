"""Phone numbers: parsed and checked with `phonenumbers`, stored in E.164, read digit by digit."""

from collections.abc import Callable

import phonenumbers

from core.limits import clipped

# What carriers put in the caller ID when the number is withheld.
WITHHELD_CALLER_IDS = {"anonymous", "restricted", "unknown", "unavailable", "private", "+266696687", "266696687"}

# Nothing longer is a phone number; refusing early keeps garbage away from the parser.
MAX_NUMBER_LENGTH = 32


def to_e164(raw: str | None, region: str) -> str | None:
    """`raw` in E.164 if it is a valid number (national formats read in `region`), else None."""
    if not raw:
        return None
    raw = raw.strip()
    if not raw or len(raw) > MAX_NUMBER_LENGTH or raw.lower() in WITHHELD_CALLER_IDS:
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def spoken_digits(text: str) -> str:
    """The digits of `text` spaced out, so text-to-speech reads them one by one."""
    return " ".join(ch for ch in text if ch.isdigit())


def spoken_phone(e164: str, region: str) -> str:
    """A stored number as a caller would say it: national digits at home, "plus …" abroad."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return spoken_digits(e164)
    if phonenumbers.region_code_for_number(number) == region:
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        return spoken_digits(national)
    return "plus " + spoken_digits(e164)


def bad_number(name: str, value: object, region: str) -> str:
    """The message for a phone number that will not parse, saying what would."""
    shown = repr(clipped(value, 40) if isinstance(value, str) else value)
    return f"{name} {shown} is not a valid phone number: give it in E.164 (+14155550123) or as a national number in {region}"


def checked_phone(name: str, value: object, region: str, refusal: Callable[[str], Exception] = ValueError) -> str:
    """`value` in E.164, or `refusal` (the caller's own error type) saying what would parse.

    A number typed by a person must be a number the line can dial as it is: an extension would
    be dropped and letters read as keypad digits, so both are refused with the reason.
    """
    number = to_e164(value, region) if isinstance(value, str) else None
    if number is None or not isinstance(value, str):
        raise refusal(bad_number(name, value, region))
    extension = phonenumbers.parse(value.strip(), region).extension
    if extension:
        raise refusal(f"{name} {clipped(value, 40)!r} has an extension ({extension}), which the line cannot dial: "
                      "give the direct number")
    if any(ch.isalpha() for ch in value):
        raise refusal(f"{name} {clipped(value, 40)!r} has letters in it: give the number in digits")
    return number
