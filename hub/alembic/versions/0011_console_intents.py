"""console: one-time form intents, so a form sent twice acts once

Revision ID: 0011
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_intents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("location", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["console_sessions.id"],
            name=op.f("fk_console_intents_session_id_console_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_intents")),
        sa.UniqueConstraint("session_id", "token_hash", name=op.f("uq_console_intents_session_id")),
    )
    with op.batch_alter_table("console_intents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_intents_session_id"), ["session_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("console_intents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_intents_session_id"))
    op.drop_table("console_intents")
