"""requesters: a ticket's known person and organisation, a call's recognised caller (contract §8)

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("requester_id", sa.Integer, nullable=True))
        batch_op.add_column(sa.Column("organization_id", sa.Integer, nullable=True))
        batch_op.create_foreign_key("fk_tickets_requester_id_people", "people", ["requester_id"], ["id"])
        batch_op.create_foreign_key("fk_tickets_organization_id_organizations", "organizations",
                                    ["organization_id"], ["id"])
        batch_op.create_index("ix_tickets_requester_id", ["requester_id"])
        batch_op.create_index("ix_tickets_organization_id", ["organization_id"])
    with op.batch_alter_table("call_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("requester_id", sa.Integer, nullable=True))
        batch_op.add_column(sa.Column("offered_tickets", sa.String(200), nullable=True))
        batch_op.create_foreign_key("fk_call_log_requester_id_people", "people", ["requester_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("call_log", schema=None) as batch_op:
        batch_op.drop_constraint("fk_call_log_requester_id_people", type_="foreignkey")
        batch_op.drop_column("offered_tickets")
        batch_op.drop_column("requester_id")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_organization_id")
        batch_op.drop_index("ix_tickets_requester_id")
        batch_op.drop_constraint("fk_tickets_organization_id_organizations", type_="foreignkey")
        batch_op.drop_constraint("fk_tickets_requester_id_people", type_="foreignkey")
        batch_op.drop_column("organization_id")
        batch_op.drop_column("requester_id")
