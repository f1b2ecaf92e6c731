"""ticket list indexes: a filtered list newest first without reading the whole table

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_status_created_at", "tickets", ["status", "created_at"])
    op.create_index("ix_tickets_severity_created_at", "tickets", ["severity", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_severity_created_at", "tickets")
    op.drop_index("ix_tickets_status_created_at", "tickets")
