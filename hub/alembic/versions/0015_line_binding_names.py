"""line_bindings and line_conversations: the name the police channel knows a person by, as the checkpoint
app's officer login does (name and mobile against the roster)

Police bindings made before names were asked get the name of the person's first station-admin or officer
account with that mobile; one with none keeps no name and is removed at its next event (the person binds
again with name and mobile).

Revision ID: 0015
Revises: 0009
Create Date: 2026-12-07 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("line_bindings") as batch:
        batch.add_column(sa.Column("name", sa.String(length=64), nullable=True))
    with op.batch_alter_table("line_conversations") as batch:
        batch.add_column(sa.Column("name", sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE line_bindings SET name = (SELECT users.name FROM users"
        " WHERE users.mobile = line_bindings.mobile AND users.role IN ('station_admin', 'officer')"
        " AND users.active ORDER BY users.id LIMIT 1)"
        " WHERE channel = 'police'"
    )


def downgrade() -> None:
    with op.batch_alter_table("line_conversations") as batch:
        batch.drop_column("name")
    with op.batch_alter_table("line_bindings") as batch:
        batch.drop_column("name")
