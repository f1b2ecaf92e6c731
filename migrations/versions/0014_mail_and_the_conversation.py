"""mail and the conversation: every message kept raw, tickets' comments and attachments (contract §8)

A ticket gains its e-mail subject and a conversation (`ticket_comments`, with attachments);
`inbound_mail` keeps each message that reached the support address as it came, once per
Message-ID; a person the line made for an unknown sender is `flagged` for an admin.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(200), nullable=True))
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flagged", sa.Boolean, nullable=False, server_default=sa.false()))
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.alter_column("flagged", server_default=None)
    op.create_table(
        "ticket_comments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(320), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("public", sa.Boolean, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_ticket_comments_ticket_id", "ticket_comments", ["ticket_id"])
    op.create_table(
        "ticket_attachments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("comment_id", sa.Integer, sa.ForeignKey("ticket_comments.id"), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(127), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_ticket_attachments_comment_id", "ticket_attachments", ["comment_id"])
    op.create_table(
        "inbound_mail",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("message_key", sa.String(64), nullable=False, unique=True),
        sa.Column("message_id", sa.String(998), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_via", sa.String(8), nullable=False),
        sa.Column("raw", sa.LargeBinary, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("why", sa.Text, nullable=True),
        sa.Column("sender", sa.String(320), nullable=True),
        sa.Column("addresses", sa.Text, nullable=True),
        sa.Column("subject", sa.String(998), nullable=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=True),
    )
    op.create_index("ix_inbound_mail_message_id", "inbound_mail", ["message_id"])
    op.create_index("ix_inbound_mail_received_at", "inbound_mail", ["received_at"])
    op.create_index("ix_inbound_mail_sender", "inbound_mail", ["sender"])
    op.create_index("ix_inbound_mail_ticket_id", "inbound_mail", ["ticket_id"])


def downgrade() -> None:
    op.drop_table("inbound_mail")
    op.drop_table("ticket_attachments")
    op.drop_table("ticket_comments")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("flagged")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("subject")
