"""Settings of the checkpoint-facing part, read like the hub's own (`HUB_*` variables, `.env`).

Kept apart from `hub.core.config.Settings` only because that file belongs to the hub core; routes get
them through `get_device_settings`, which tests replace with `app.dependency_overrides`.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DeviceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_", env_file=".env", extra="ignore")

    # An officer credential covers one shift; 12 h is the longest duty shift at a roadblock, and a
    # device with no network must still accept its officer until the shift ends.
    officer_credential_hours: float = Field(default=12.0, gt=0, le=48)
    # An enrolment QR is made while the device is at hand; an hour covers a station enrolling a stack.
    enrolment_token_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    # docs/CONTRACTS.md caps a batch at 1000 events; an operator may lower it, never raise it.
    max_events_per_batch: int = Field(default=1000, ge=1, le=1000)


@lru_cache
def get_device_settings() -> DeviceSettings:
    return DeviceSettings()
