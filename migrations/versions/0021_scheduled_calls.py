"""scheduled calls: a call with the requester planned for a time, its invitations (an e-mail's iCalendar
attachment) and the messages about it

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduled_calls",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=False, index=True),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("customer_phone", sa.String(20), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("offered", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calendar", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("scheduled_call_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_notifications_scheduled_call_id", ["scheduled_call_id"])
        batch_op.create_foreign_key("fk_notifications_scheduled_call_id", "scheduled_calls", ["scheduled_call_id"],
                                    ["id"])


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint("fk_notifications_scheduled_call_id", type_="foreignkey")
        batch_op.drop_index("ix_notifications_scheduled_call_id")
        batch_op.drop_column("scheduled_call_id")
        batch_op.drop_column("calendar")
    op.drop_table("scheduled_calls")
