"""`make bench`'s mail run, small: the real `mail` process and the floor, every message kept once."""

from __future__ import annotations

from pathlib import Path

from bench.mail import mail_run


def test_the_mail_bench_sends_through_the_real_listener_and_counts_what_was_kept(tmp_path: Path) -> None:
    run = mail_run("sqlite", f"sqlite:///{tmp_path / 'bench.sqlite3'}", tmp_path, senders=2, per_sender=3)
    assert (run.line.sent, run.floor.sent, run.line.errors, run.floor.errors) == (6, 6, [], [])
    assert (run.kept, run.tickets) == (6, 6)
    assert run.ratio > 0


def test_the_bench_counts_the_first_webhooks_statements_with_and_without_a_known_caller(tmp_path: Path) -> None:
    from bench.mail import recognition_statements

    counted = recognition_statements(f"sqlite:///{tmp_path / 'recognition.sqlite3'}", tmp_path)
    assert counted.known == counted.stranger == 4
