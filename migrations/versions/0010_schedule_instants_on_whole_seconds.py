"""schedule instants on whole seconds: rotations and overrides saved before the API stated them exactly

Rotation versions and overrides are now saved on whole seconds (as the
calendar feeds can state them, RFC 5545 having no fractions), so every instant the API and
the feeds give round-trips. Rows saved earlier may carry fractions; they are moved the way
new saves are: a rotation takes effect and an override ends at the next whole second, an
override starts at its own whole second, so nobody's covered time shrinks.

Revision ID: 0010
Revises: 0009
"""

from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# (table, column, moved up to the next whole second rather than down to its own)
INSTANTS = [("rotations", "effective_from", True), ("overrides", "start", False), ("overrides", "end", True)]


def _whole(instant: datetime, up: bool) -> datetime:
    whole = instant.replace(microsecond=0)
    return whole + timedelta(seconds=1) if up and whole != instant else whole


def upgrade() -> None:
    connection = op.get_bind()
    for table_name, column_name, up in INSTANTS:
        table = sa.table(table_name, sa.column("id", sa.Integer), sa.column(column_name, sa.DateTime(timezone=True)))
        column = table.c[column_name]
        for row_id, instant in connection.execute(sa.select(table.c.id, column)).all():
            if instant is not None and instant.microsecond:
                connection.execute(table.update().where(table.c.id == row_id).values({column_name: _whole(instant, up)}))


def downgrade() -> None:
    # The fractions are not kept: a whole second is as good an instant as the one it replaced.
    pass
