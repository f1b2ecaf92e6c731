"""overrides by end: who is on duty skips the overrides that have ended

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_overrides_end_start", "overrides", ["end", "start"])


def downgrade() -> None:
    op.drop_index("ix_overrides_end_start", "overrides")
