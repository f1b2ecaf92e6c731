"""mail out: the outbox sends e-mail too (an address, a subject, its own Message-ID, what it answers)

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("to_number", existing_type=sa.String(20), type_=sa.String(320), existing_nullable=False)
        batch_op.add_column(sa.Column("subject", sa.String(998), nullable=True))
        batch_op.add_column(sa.Column("message_id", sa.String(998), nullable=True))
        batch_op.add_column(sa.Column("in_reply_to", sa.String(998), nullable=True))
        batch_op.create_index("ix_notifications_message_id", ["message_id"])
    with op.batch_alter_table("ticket_comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_id", sa.String(998), nullable=True))
        batch_op.create_index("ix_ticket_comments_message_id", ["message_id"])


def downgrade() -> None:
    with op.batch_alter_table("ticket_comments", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_comments_message_id")
        batch_op.drop_column("message_id")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_message_id")
        batch_op.drop_column("in_reply_to")
        batch_op.drop_column("message_id")
        batch_op.drop_column("subject")
        batch_op.alter_column("to_number", existing_type=sa.String(320), type_=sa.String(20), existing_nullable=False)
