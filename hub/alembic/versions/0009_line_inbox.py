"""the LINE webhook inbox: line_inbox (stored before the webhook is answered, handled from there)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "line_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("webhook_event_id", sa.String(length=64), nullable=False),
        sa.Column("line_user_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("content", sa.String(length=2000), nullable=True),
        sa.Column("reply_token", sa.String(length=255), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_inbox")),
        sa.UniqueConstraint("channel", "webhook_event_id", name="uq_line_inbox_channel_event"),
    )
    op.create_index("ix_line_inbox_pending", "line_inbox", ["done_at", "id"])
    op.create_index("ix_line_inbox_user", "line_inbox", ["channel", "line_user_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_line_inbox_user", table_name="line_inbox")
    op.drop_index("ix_line_inbox_pending", table_name="line_inbox")
    op.drop_table("line_inbox")
