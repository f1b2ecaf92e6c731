"""Fetching the support mailbox over IMAP (`MAIL_IMAP_URL`, with `imapclient`): the default for a vendor's
existing mailbox.

Each round reads the messages not yet `\\Seen`, keeps and files each one (its own commit), and only
then marks it `\\Seen`: a fetcher killed between the two reads the message again and, since the
same Message-ID is kept once, files it once. One fetcher runs at a time: on PostgreSQL an advisory
lock held for the round says which; on SQLite there is one worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from imapclient import IMAPClient
from sqlalchemy import Connection, text

log = logging.getLogger(__name__)

# The advisory lock's key: one fetcher per database, whatever else takes advisory locks.
FETCHER_LOCK = 0x5117_0001
# Messages read a round, at most: a full mailbox is worked through over several rounds.
MESSAGES_A_ROUND = 50
SEEN = b"\\Seen"


@dataclass(frozen=True)
class Mailbox:
    """Where the support mail waits: `imap://user:pw@host:143/INBOX` or `imaps://…:993/Folder`."""

    host: str
    port: int
    tls: bool
    username: str
    password: str
    folder: str

    @classmethod
    def from_url(cls, url: str) -> Mailbox:
        """The mailbox a MAIL_IMAP_URL names; ValueError saying what is missing."""
        parts = urlsplit(url)
        if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
            raise ValueError("MAIL_IMAP_URL must be imap[s]://user:password@host[:port]/Folder")
        tls = parts.scheme == "imaps"
        return cls(host=parts.hostname, port=parts.port or (993 if tls else 143), tls=tls,
                   username=unquote(parts.username), password=unquote(parts.password or ""),
                   folder=unquote(parts.path.lstrip("/")) or "INBOX")

    def connect(self, timeout: float = 30.0) -> IMAPClient:
        """A logged-in client with the folder selected."""
        client = IMAPClient(self.host, port=self.port, ssl=self.tls, timeout=timeout)
        try:
            client.login(self.username, self.password)
            client.select_folder(self.folder)
        except BaseException:
            client.shutdown()  # a refused login must not leave the socket open
            raise
        return client


def fetch_round(lock: Connection, client: Any, keep: Callable[[bytes], Any]) -> int:
    """Keep and file every unseen message (at most MESSAGES_A_ROUND), marking each `\\Seen` only once kept.

    `lock` is a connection of the line's database held for the round: on PostgreSQL its transaction
    takes the fetcher's advisory lock, so a second fetcher's round finds it taken and reads nothing
    (SQLite runs one worker).
    `keep` stores and files one raw message (and raises when it cannot: the message then stays
    unseen, to be read again next round). Returns how many were kept.
    """
    if lock.dialect.name != "postgresql":
        return _read_unseen(client, keep)  # SQLite: one worker, and a transaction here would lock out `keep`
    with lock.begin():
        if not lock.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": FETCHER_LOCK}).scalar():
            return 0
        return _read_unseen(client, keep)


def _read_unseen(client: Any, keep: Callable[[bytes], Any]) -> int:
    kept = 0
    for uid in client.search(["UNSEEN"])[:MESSAGES_A_ROUND]:
        # BODY.PEEK reads a message without marking it seen: only a kept message is marked.
        raw = client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {}).get(b"BODY[]")
        if raw is None:
            continue
        keep(bytes(raw))
        client.add_flags([uid], [SEEN])
        kept += 1
    return kept
