"""checkpoints: devices, enrolment tokens, officer device logins, scan batches and scans

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 13:20:17.520683
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enrolled_by", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Integer(), nullable=True),
        sa.Column("revoke_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["organisations.id"],
            name=op.f("fk_devices_station_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("public_key", name=op.f("uq_devices_public_key")),
    )
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_devices_station_id"), ["station_id"], unique=False)

    op.create_table(
        "device_enrolment_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("device_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_device_enrolment_tokens_device_id_devices"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["organisations.id"],
            name=op.f("fk_device_enrolment_tokens_station_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_enrolment_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_device_enrolment_tokens_token_hash")),
    )
    op.create_table(
        "officer_device_logins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("mobile", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("credential_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_officer_device_logins_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"],
            ["officers.id"],
            name=op.f("fk_officer_device_logins_officer_id_officers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officer_device_logins")),
    )
    with op.batch_alter_table("officer_device_logins", schema=None) as batch_op:
        batch_op.create_index("ix_officer_device_logins_device_mobile", ["device_id", "mobile"], unique=False)
        batch_op.create_index(batch_op.f("ix_officer_device_logins_officer_id"), ["officer_id"], unique=False)

    op.create_table(
        "scan_batches",
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_scan_batches_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_scan_batches")),
    )
    with op.batch_alter_table("scan_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scan_batches_device_id"), ["device_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scan_batches_received_at"), ["received_at"], unique=False)

    op.create_table(
        "scans",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hlc", sa.String(length=64), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("pass_id", sa.String(length=32), nullable=True),
        sa.Column("officer_id", sa.String(length=32), nullable=True),
        sa.Column("issuer_kid", sa.String(length=16), nullable=True),
        sa.Column("serial", sa.BigInteger(), nullable=True),
        sa.Column("trust_age_s", sa.BigInteger(), nullable=True),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name=op.f("fk_scans_device_id_devices")),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_scans")),
        sa.UniqueConstraint("device_id", "seq", name="uq_scans_device_seq"),
    )
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.create_index("ix_scans_officer_scanned", ["officer_id", "scanned_at"], unique=False)
        batch_op.create_index("ix_scans_scanned_at", ["scanned_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.drop_index("ix_scans_scanned_at")
        batch_op.drop_index("ix_scans_officer_scanned")

    op.drop_table("scans")
    with op.batch_alter_table("scan_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scan_batches_received_at"))
        batch_op.drop_index(batch_op.f("ix_scan_batches_device_id"))

    op.drop_table("scan_batches")
    with op.batch_alter_table("officer_device_logins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_officer_device_logins_officer_id"))
        batch_op.drop_index("ix_officer_device_logins_device_mobile")

    op.drop_table("officer_device_logins")
    op.drop_table("device_enrolment_tokens")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_devices_station_id"))

    op.drop_table("devices")
