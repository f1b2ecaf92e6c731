"""unique API token names: a token is listed and revoked by its name

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Names given twice before this rule keep their oldest token's name; the others get their id.
    connection = op.get_bind()
    tokens = sa.table("api_tokens", sa.column("id", sa.Integer), sa.column("name", sa.String))
    seen: set[str] = set()
    for token_id, name in connection.execute(sa.select(tokens.c.id, tokens.c.name).order_by(tokens.c.id)):
        if name in seen:
            connection.execute(tokens.update().where(tokens.c.id == token_id).values(name=f"{name[:60]} #{token_id}"))
        seen.add(name)
    op.create_index("ix_api_tokens_name", "api_tokens", ["name"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_api_tokens_name", "api_tokens")
