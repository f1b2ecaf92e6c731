"""The clock: aware UTC inside, always; tests give the app a fake one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from flask import Flask, current_app

Clock = Callable[[], datetime]

_EXTENSION = "supportline.clock"


def utc_now() -> datetime:
    """The real clock: an aware UTC datetime. Tests pass a fake one to `create_app`."""
    return datetime.now(timezone.utc)


def init_app(app: Flask, clock: Clock) -> None:
    """Make `clock` the app's clock."""
    app.extensions[_EXTENSION] = clock


def current_clock() -> datetime:
    """Now, from the app's clock (a fake one in tests)."""
    return current_app.extensions[_EXTENSION]()

