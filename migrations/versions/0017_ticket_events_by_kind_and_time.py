"""ticket events by kind and time: the worker's status-mail round reads the last day's changes by index

Revision ID: 0017
Revises: 0016
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ticket_events_kind_at", "ticket_events", ["kind", "at"])


def downgrade() -> None:
    op.drop_index("ix_ticket_events_kind_at", table_name="ticket_events")
