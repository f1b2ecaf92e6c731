"""organizations and people: who asks for support (contract §8)

A customer may be managed by a partner; a person belongs to at most one organisation (an
unknown sender has none until an admin places them). Active people never share an e-mail
address (kept in lower case) or a phone number.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("partner_id", sa.Integer, sa.ForeignKey("organizations.id"), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_organizations_partner_id", "organizations", ["partner_id"])
    op.create_table(
        "people",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("organization_id", sa.Integer, sa.ForeignKey("organizations.id"), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_people_organization_id", "people", ["organization_id"])
    active_email = sa.text("active AND email IS NOT NULL")
    op.create_index("uq_people_active_email", "people", ["email"], unique=True,
                    sqlite_where=active_email, postgresql_where=active_email)
    active_phone = sa.text("active AND phone IS NOT NULL")
    op.create_index("uq_people_active_phone", "people", ["phone"], unique=True,
                    sqlite_where=active_phone, postgresql_where=active_phone)


def downgrade() -> None:
    op.drop_table("people")
    op.drop_table("organizations")
