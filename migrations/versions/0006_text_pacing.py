"""text pacing: when the line last texted each number, so an engineer gets at most one text a minute

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "text_pacing",
        sa.Column("to_number", sa.String(20), primary_key=True),
        sa.Column("last_text_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("text_pacing")
