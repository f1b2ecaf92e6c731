"""the SLA report: its cells as the worker computes them, when it last did, and the indexes it reads
(tickets unanswered and answered late, by creation; resolutions and satisfaction answers, by time;
timeline entries by time)

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    unanswered = sa.column("first_response_at").is_(None)
    late = sa.column("first_response_at") > sa.column("response_due_at")
    op.create_index("ix_tickets_unanswered_created", "tickets", ["created_at"],
                    sqlite_where=unanswered, postgresql_where=unanswered)
    op.create_index("ix_tickets_answered_late_created", "tickets", ["created_at"],
                    sqlite_where=late, postgresql_where=late)
    for column in ("resolved_at", "satisfaction_at"):
        stated = sa.column(column).is_not(None)
        op.create_index(f"ix_tickets_{column}", "tickets", [column], sqlite_where=stated, postgresql_where=stated)
    op.create_index("ix_ticket_events_at", "ticket_events", ["at"])
    op.create_table(
        "report_cells",
        sa.Column("period", sa.String(5), primary_key=True),
        sa.Column("period_start", sa.Date(), primary_key=True),
        sa.Column("severity", sa.String(10), primary_key=True),
        sa.Column("organization_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("opened", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("within", sa.Integer(), nullable=False),
        sa.Column("resolved", sa.Integer(), nullable=False),
        sa.Column("satisfied", sa.Integer(), nullable=False),
        sa.Column("dissatisfied", sa.Integer(), nullable=False),
        sa.Column("median_seconds", sa.Double(), nullable=True),
        sa.Column("p90_seconds", sa.Double(), nullable=True),
    )
    op.create_table(
        "report_refreshes",
        sa.Column("report", sa.String(16), primary_key=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("report_refreshes")
    op.drop_table("report_cells")
    op.drop_index("ix_ticket_events_at", "ticket_events")
    op.drop_index("ix_tickets_satisfaction_at", "tickets")
    op.drop_index("ix_tickets_resolved_at", "tickets")
    op.drop_index("ix_tickets_answered_late_created", "tickets")
    op.drop_index("ix_tickets_unanswered_created", "tickets")
