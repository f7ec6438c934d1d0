"""audit log as a transparency log: leaves, signed tree heads, signed purges; purge-only deletes

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-06 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A row may go only when a signed purge covers its leaf (hub.services.transparency_log.purge_prefix);
# everything else stays refused, as 0001 made it.
_PURGED = "(SELECT COALESCE(MAX(tree_size), 0) FROM audit_log_purges)"
_EVENT_PURGED = (
    f"EXISTS (SELECT 1 FROM audit_log_leaves l WHERE l.event_id = OLD.id AND l.leaf_index < {_PURGED})"
)
_REFUSE = "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END"


def upgrade() -> None:
    op.create_table(
        "audit_log_leaves",
        sa.Column("leaf_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("leaf_index", name=op.f("pk_audit_log_leaves")),
        sa.UniqueConstraint("event_id", name=op.f("uq_audit_log_leaves_event_id")),
    )
    op.create_table(
        "audit_log_heads",
        sa.Column("tree_size", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("timestamp", sa.Integer(), nullable=False),
        sa.Column("kid", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.Column("previous_size", sa.Integer(), nullable=True),
        sa.Column("consistency", sa.LargeBinary(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_audit_log_heads")),
    )
    op.create_table(
        "audit_log_purges",
        sa.Column("tree_size", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("timestamp", sa.Integer(), nullable=False),
        sa.Column("kid", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_audit_log_purges")),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_events_no_delete")
        op.execute(
            f"CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events WHEN NOT {_EVENT_PURGED} "
            + _REFUSE
        )
        op.execute(f"CREATE TRIGGER audit_log_leaves_no_update BEFORE UPDATE ON audit_log_leaves {_REFUSE}")
        op.execute(
            "CREATE TRIGGER audit_log_leaves_no_delete BEFORE DELETE ON audit_log_leaves "
            f"WHEN OLD.leaf_index >= {_PURGED} {_REFUSE}"
        )
    else:
        op.execute(
            "CREATE OR REPLACE FUNCTION audit_events_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF TG_OP = 'DELETE' AND {_EVENT_PURGED} THEN RETURN OLD; END IF; "
            "RAISE EXCEPTION 'audit log is append-only'; END $$"
        )
        op.execute(
            "CREATE FUNCTION audit_log_leaves_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF TG_OP = 'DELETE' AND OLD.leaf_index < {_PURGED} THEN RETURN OLD; END IF; "
            "RAISE EXCEPTION 'audit log is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_leaves_append_only BEFORE UPDATE OR DELETE ON audit_log_leaves "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_leaves_refuse()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_events_no_delete")
        op.execute(f"CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events {_REFUSE}")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_leaves_append_only ON audit_log_leaves")
        op.execute("DROP FUNCTION IF EXISTS audit_log_leaves_refuse()")
        op.execute(
            "CREATE OR REPLACE FUNCTION audit_events_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$"
        )
    op.drop_table("audit_log_purges")
    op.drop_table("audit_log_heads")
    op.drop_table("audit_log_leaves")
