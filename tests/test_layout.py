"""The arrows between packages (README, "How the code is laid out"), held by import-linter.

`make test` runs `lint-imports` over the tree; these tests show that every arrow that must
never exist is caught: each adds one forbidden import to a copy of the tree and expects the
contract that forbids it to break.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "web", "staff", "people", "oncall", "tickets", "ivr", "mail", "portal", "ops", "phonesim")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", str(tree / "pyproject.toml")], cwd=tree,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project's Python packages, the factory, the demo and the contracts."""
    copy = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__", "templates", "static"))
    for name in ("app.py", "demo.py", "pyproject.toml"):
        shutil.copy(ROOT / name, copy / name)
    return copy


def test_the_tree_keeps_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


FORBIDDEN_ARROWS = [
    ("core/limits.py", "import app", "Nothing imports the factory"),
    ("ivr/webhooks/caller.py", "from app import create_app", "Nothing imports the factory"),
    ("staff/audit.py", "import demo", "Nothing but the factory imports the demo"),
    ("oncall/service.py", "import ivr.models", "The on-call rotation knows no tickets and no calls"),
    ("oncall/pages/contacts.py", "import tickets.models", "The on-call rotation knows no tickets and no calls"),
    ("tickets/pages.py", "import ivr.models", "Tickets know no calls or mail"),
    ("tickets/service.py", "import mail.models", "Tickets know no calls or mail"),
    ("mail/filing.py", "import ivr.calls", "Areas build on what they share"),
    ("mail/filing.py", "import portal.pages", "Areas build on what they share"),
    ("portal/visibility.py", "import ivr.models", "The customer portal knows no calls"),
    ("mail/reading.py", "import sqlalchemy", "Pure domain modules use no web framework and no database"),
    ("people/service.py", "import tickets.models", "Customers and partners know no tickets, calls or rotation"),
    ("people/models.py", "import oncall.models", "Customers and partners know no tickets, calls or rotation"),
    ("web/pages.py", "import staff.admins", "Areas build on what they share"),
    ("core/db.py", "import oncall.models", "Areas build on what they share"),
    ("staff/tokens.py", "import tickets.service", "Areas build on what they share"),
    ("phonesim/__init__.py", "import core.db", "The phone emulator stands alone"),
    ("ivr/flow.py", "import flask", "Pure domain modules use no web framework and no database"),
    ("oncall/schedule.py", "import sqlalchemy", "Pure domain modules use no web framework and no database"),
    ("tickets/sla.py", "import core.db", "Pure domain modules use no web framework and no database"),
]


@pytest.mark.parametrize(("module", "statement", "contract"), FORBIDDEN_ARROWS,
                         ids=[f"{m}: {s}" for m, s, _ in FORBIDDEN_ARROWS])
def test_a_forbidden_import_breaks_its_contract(tree: Path, module: str, statement: str, contract: str) -> None:
    path = tree / module
    original = path.read_text()
    path.write_text(original + f"\n{statement}  # noqa: E402,F401\n")
    try:
        result = lint_imports(tree)
    finally:
        path.write_text(original)
    assert result.returncode != 0
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert any(line.startswith(contract) for line in broken), result.stdout
