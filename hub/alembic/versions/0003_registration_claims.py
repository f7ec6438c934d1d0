"""enterprise registrations held for review: a second claim on a taken 統一編號

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "registration_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("ubn", sa.String(length=8), nullable=False),
        sa.Column("company_name", sa.String(length=100), nullable=False),
        sa.Column("admin_name", sa.String(length=64), nullable=False),
        sa.Column("admin_mobile", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_registration_claims_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["users.id"],
            name=op.f("fk_registration_claims_decided_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_claims")),
    )
    with op.batch_alter_table("registration_claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registration_claims_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_registration_claims_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("registration_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registration_claims_state"))
        batch_op.drop_index(batch_op.f("ix_registration_claims_org_id"))
    op.drop_table("registration_claims")
