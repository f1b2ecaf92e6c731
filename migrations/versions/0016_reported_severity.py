"""reported severity: what the customer chose or wrote, kept beside support's classification

Tickets opened before this keep their severity as what was reported (nothing else was recorded).

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reported_severity", sa.String(10), nullable=True))
    tickets = sa.table("tickets", sa.column("severity", sa.String), sa.column("reported_severity", sa.String))
    op.get_bind().execute(tickets.update().values(reported_severity=tickets.c.severity))


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("reported_severity")
