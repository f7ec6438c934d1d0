"""otp_codes: the LINE user who asked for a code and the venue a check-in code is for, so the caps can
count them besides the number and the address

Revision ID: 0014
Revises: 0008
Create Date: 2026-12-06 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("otp_codes") as batch:
        batch.add_column(sa.Column("line_user", sa.String(length=24), nullable=True))
        batch.add_column(sa.Column("venue_id", sa.Integer(), nullable=True))
    op.create_index("ix_otp_codes_line_user_created", "otp_codes", ["line_user", "created_at"])
    op.create_index("ix_otp_codes_venue_created", "otp_codes", ["venue_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_otp_codes_venue_created", table_name="otp_codes")
    op.drop_index("ix_otp_codes_line_user_created", table_name="otp_codes")
    with op.batch_alter_table("otp_codes") as batch:
        batch.drop_column("venue_id")
        batch.drop_column("line_user")
