"""Fixtures for mail: real messages from `messages/`, the filing rules, and the line's SMTP listener on a free port."""

from __future__ import annotations

import os
import pwd
import shutil
import ssl
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from flask import Flask
from imapclient import IMAPClient
from sqlalchemy.orm import Session

from core.calendar import business_calendar
from mail.commands import keeper
from mail.fetcher import Mailbox
from mail.filing import MailRules, receive
from mail.listener import listening
from mail.models import InboundMail
from oncall.service import duty_at
from people.models import Organization, Person
from people.service import add_organization, add_person
from tests.support import FakeClock, Outgoing, free_port

MESSAGES = Path(__file__).parent / "messages"
SUPPORT = "support@example.com"


def message(name: str) -> bytes:
    """The raw bytes of `messages/<name>.eml`, with the CRLF line ends mail has on the wire."""
    return (MESSAGES / f"{name}.eml").read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


@pytest.fixture
def rules() -> MailRules:
    return MailRules(support_address=SUPPORT, max_message_bytes=10_000_000,
                     calendar=business_calendar("America/New_York", "US"), secret="test-secret-key")


@pytest.fixture
def deliver(session: Session, clock: FakeClock, rules: MailRules) -> Callable[[bytes], InboundMail]:
    """File a raw message as the listener would, at the fixture clock's time."""
    return lambda raw: receive(session, raw, now=clock.now, via="smtp", rules=rules, duty_at=partial(duty_at, session))


@pytest.fixture
def acme(session: Session, clock: FakeClock) -> Organization:
    return add_organization(session, {"name": "Acme Corp", "kind": "customer"}, now=clock.now, actor="tests")


@pytest.fixture
def lena(session: Session, clock: FakeClock, acme: Organization) -> Person:
    return add_person(session, {"name": "Lena Fischer", "email": "lena@acme.example", "organization_id": acme.id},
                      region="US", now=clock.now, actor="tests")


@pytest.fixture
def listener(make_app: Callable[..., Flask]) -> Iterator[tuple[str, int]]:
    """The line's own SMTP listener (aiosmtpd) on a free loopback port, for the support address."""
    app = make_app(MAIL_FROM=SUPPORT)
    port = free_port()
    controller = listening(keeper(app, "smtp"), host="127.0.0.1", port=port, support_address=SUPPORT,
                           max_message_bytes=10_000_000)
    try:
        yield "127.0.0.1", port
    finally:
        controller.stop()


DOVECOT = Path("/usr/sbin/dovecot")
DOVECOT_CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/run
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:~/Maildir
first_valid_uid = 1
default_internal_user = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = {root}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@dataclass(frozen=True)
class Dovecot:
    """Debian's Dovecot serving one throwaway mailbox on a loopback port."""

    url: str
    mailbox: Mailbox

    def client(self) -> IMAPClient:
        return self.mailbox.connect(timeout=10)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """Dovecot (`dovecot-imapd`, which .ci/run installs) on a free port with the user support/secret.

    Skipped with the reason where it is not installed, except under CI, where that fails.
    """
    if not DOVECOT.exists() or os.geteuid() != 0:
        reason = "Dovecot is not installed (apt-get install dovecot-imapd)" if not DOVECOT.exists() else \
            "Dovecot's throwaway server needs root here"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the IMAP tests, but {reason}")
        pytest.skip(reason)
    owner = pwd.getpwnam("dovecot")
    # Not under pytest's own temporary folder: Dovecot's processes run as its user, who cannot enter that.
    root = Path(tempfile.mkdtemp(prefix="dovecot-"))
    os.chmod(root, 0o755)
    (root / "run").mkdir()
    home = root / "support"
    home.mkdir()
    os.chown(home, owner.pw_uid, owner.pw_gid)
    (root / "passwd").write_text(f"support:{{PLAIN}}secret:{owner.pw_uid}:{owner.pw_gid}::{home}\n")
    port = free_port()
    config = root / "dovecot.conf"
    config.write_text(DOVECOT_CONFIG.format(root=root, port=port))
    subprocess.run([str(DOVECOT), "-c", str(config)], check=True, timeout=30)
    url = f"imap://support:secret@127.0.0.1:{port}/INBOX"
    try:
        for _ in range(100):  # it forks into the background: wait until it answers
            try:
                Mailbox.from_url(url).connect(timeout=2).logout()
                break
            except OSError:
                time.sleep(0.05)
        yield Dovecot(url, Mailbox.from_url(url))
    finally:
        subprocess.run([str(DOVECOT), "-c", str(config), "stop"], check=False, timeout=30)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def mailbox(dovecot: Dovecot) -> Iterator[IMAPClient]:
    """The mailbox, emptied: a client logged in with INBOX selected."""
    client = dovecot.client()
    existing = client.search(["ALL"])
    if existing:
        client.delete_messages(existing)
        client.expunge()
    try:
        yield client
    finally:
        client.logout()


@pytest.fixture(scope="session")
def certificate() -> Iterator[tuple[Path, Path]]:
    """A self-signed certificate for 127.0.0.1 (openssl), and its key: the outgoing server's TLS."""
    folder = Path(tempfile.mkdtemp(prefix="smtp-tls-"))
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    try:
        yield cert, key
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _password_only(server, session, envelope, mechanism, auth_data) -> AuthResult:
    """The outgoing server's one account: support / app-password."""
    right = (auth_data.login, auth_data.password) == (b"support", b"app-password")
    return AuthResult(success=right, handled=False)  # not handled: aiosmtpd answers 535 itself


@pytest.fixture(params=["starttls", "implicit"])
def tls_outgoing(request, certificate, monkeypatch) -> Iterator[tuple[Outgoing, str]]:
    """The outgoing server wanting a login over TLS: STARTTLS on a submission port, or TLS from the start.

    The line trusts the test certificate as it would a real one, through the default verify paths."""
    cert, key = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server, port = Outgoing(), free_port()
    if request.param == "starttls":
        controller = Controller(server, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                                auth_require_tls=True, auth_required=True, authenticator=_password_only)
        url = f"smtp://support:app-password@127.0.0.1:{port}"
    else:
        # TLS from the first byte: aiosmtpd only counts STARTTLS as TLS, so it must not also require that.
        controller = Controller(server, hostname="127.0.0.1", port=port, ssl_context=context, auth_required=True,
                                auth_require_tls=False, authenticator=_password_only)
        url = f"smtps://support:app-password@127.0.0.1:{port}"
    controller.start()
    try:
        yield server, url
    finally:
        controller.stop()
