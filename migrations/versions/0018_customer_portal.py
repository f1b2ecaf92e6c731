"""the customer portal: organisation admins, portal sign-ins, satisfaction answers, shared throttles, and
a person's and an organisation's tickets indexed by status, newest first

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organization_admin", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_requester_id")
        batch_op.drop_index("ix_tickets_organization_id")
        batch_op.create_index("ix_tickets_requester_status_created", ["requester_id", "status", "created_at"])
        batch_op.create_index("ix_tickets_organization_status_created", ["organization_id", "status", "created_at"])
        batch_op.add_column(sa.Column("satisfaction", sa.String(3), nullable=True))
        batch_op.add_column(sa.Column("satisfaction_comment", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("satisfaction_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "portal_accounts",
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id"), primary_key=True),
        sa.Column("sign_ins", sa.Integer(), nullable=False),
        sa.Column("session_epoch", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "throttle_counts",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_throttle_counts_expires_at", "throttle_counts", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_throttle_counts_expires_at", table_name="throttle_counts")
    op.drop_table("throttle_counts")
    op.drop_table("portal_accounts")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("satisfaction_at")
        batch_op.drop_column("satisfaction_comment")
        batch_op.drop_column("satisfaction")
        batch_op.drop_index("ix_tickets_organization_status_created")
        batch_op.drop_index("ix_tickets_requester_status_created")
        batch_op.create_index("ix_tickets_requester_id", ["requester_id"])
        batch_op.create_index("ix_tickets_organization_id", ["organization_id"])
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("organization_admin")
