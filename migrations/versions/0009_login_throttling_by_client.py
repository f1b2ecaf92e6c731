"""login throttling by client: failed logins counted per client address, never locking an account;
logging out ends the admin's sessions (session_epoch)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_login_failures_client_at", "login_failures", ["client", "at"])
    with op.batch_alter_table("admin_users") as table:  # SQLite rebuilds the table to drop columns
        table.drop_column("failed_logins")
        table.drop_column("locked_until")
        table.add_column(sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("admin_users") as table:
        table.drop_column("session_epoch")
        table.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
    op.drop_index("ix_login_failures_client_at", "login_failures")
    op.drop_table("login_failures")
