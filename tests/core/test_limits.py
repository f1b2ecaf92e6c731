"""The one parser for numbers from outside and the one clipper for echoed input (core.limits)."""

import pytest

from core.limits import MAX_ROW_ID, clipped, row_id, storable, whole_number


@pytest.mark.parametrize(("raw", "expected"), [("0", 0), (" 42 ", 42), (7, 7), ("999", 999)])
def test_a_whole_number_within_its_bound_is_read(raw, expected) -> None:
    assert whole_number(raw, 999) == expected


@pytest.mark.parametrize("raw", [None, "", "-1", "1.5", "1e3", "１２", "²", "1000", "0001", ["1"], "12 3"])
def test_anything_else_is_no_number(raw) -> None:
    assert whole_number(raw, 999) is None


def test_more_digits_may_be_allowed_than_the_bound_has_for_leading_zeros() -> None:
    assert whole_number("000000010001", 2**31 - 1, digits=12) == 10001
    assert whole_number("0000000010001", 2**31 - 1, digits=12) is None


@pytest.mark.parametrize(("raw", "expected"), [("1", 1), (str(MAX_ROW_ID), MAX_ROW_ID), ("0", None),
                                               (str(MAX_ROW_ID + 1), None), ("abc", None)])
def test_a_row_id_is_a_positive_32_bit_number(raw, expected) -> None:
    assert row_id(raw) == expected


def test_clipping_keeps_short_text_and_cuts_long_text_with_an_ellipsis() -> None:
    assert clipped("short", 10) == "short"
    assert clipped("x" * 12, 10) == "x" * 10 + "…"
    assert clipped("x" * 12, 10, say_length=True) == "x" * 10 + "… (12 characters)"


@pytest.mark.parametrize(("text", "expected"), [("plain", True), ("nul\x00", False), ("lone \ud800", False)])
def test_storable_text_has_no_nul_and_no_lone_surrogate(text, expected) -> None:
    assert storable(text) is expected
