"""line entries: webhook events (dedup, reply outbox), LINE bindings, chat steps, support messages

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 04:47:21.210209
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "line_bindings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("line_user_id", sa.String(length=64), nullable=False),
        sa.Column("mobile", sa.String(length=16), nullable=False),
        sa.Column("bound_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_bindings")),
        sa.UniqueConstraint("channel", "line_user_id", name="uq_line_bindings_channel_user"),
        sa.UniqueConstraint("channel", "mobile", name="uq_line_bindings_channel_mobile"),
    )
    op.create_table(
        "line_conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("line_user_id", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=24), nullable=False),
        sa.Column("mobile", sa.String(length=16), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_conversations")),
        sa.UniqueConstraint("channel", "line_user_id", name="uq_line_conversations_channel_user"),
    )
    op.create_table(
        "line_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("webhook_event_id", sa.String(length=64), nullable=False),
        sa.Column("line_user_id", sa.String(length=64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reply", sa.JSON(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_events")),
        sa.UniqueConstraint("channel", "webhook_event_id", name="uq_line_events_channel_event"),
    )
    op.create_table(
        "line_support_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("line_user_id", sa.String(length=64), nullable=False),
        sa.Column("mobile", sa.String(length=16), nullable=True),
        sa.Column("text", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_support_messages")),
    )
    with op.batch_alter_table("line_support_messages", schema=None) as batch_op:
        batch_op.create_index("ix_line_support_messages_created", ["created_at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("line_support_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_line_support_messages_created")

    op.drop_table("line_support_messages")
    op.drop_table("line_events")
    op.drop_table("line_conversations")
    op.drop_table("line_bindings")
