"""missed calls: calls nobody answered were logged `abandoned`; they are `missed` (contract §7)

`abandoned` now means only a caller who hung up in the menu, before anyone was rung. A call
left ringing engineers, at the voicemail prompt, or an engineer callback nobody took, is
`missed`: the step a call ended at tells which.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UNANSWERED_STEPS = ("connecting", "voicemail", "no_message", "engineer_callback")


def upgrade() -> None:
    calls = sa.table("call_log", sa.column("outcome", sa.String), sa.column("step", sa.String))
    op.get_bind().execute(calls.update().where(calls.c.outcome == "abandoned", calls.c.step.in_(UNANSWERED_STEPS))
                          .values(outcome="missed"))


def downgrade() -> None:
    calls = sa.table("call_log", sa.column("outcome", sa.String))
    op.get_bind().execute(calls.update().where(calls.c.outcome == "missed").values(outcome="abandoned"))
