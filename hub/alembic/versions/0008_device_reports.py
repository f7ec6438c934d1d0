"""devices: last sync, app version and upload queue as the device reports them

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("app_version", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("queue_waiting", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("queue_oldest_age_s", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("queue_reported_at", sa.DateTime(timezone=True), nullable=True))
    # Devices that synced before this column existed keep their last sync: the newest stored batch.
    op.execute(
        "UPDATE devices SET last_sync_at = (SELECT max(b.received_at) FROM scan_batches b"
        " WHERE b.device_id = devices.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("queue_reported_at")
        batch.drop_column("queue_oldest_age_s")
        batch.drop_column("queue_waiting")
        batch.drop_column("app_version")
        batch.drop_column("last_sync_at")
