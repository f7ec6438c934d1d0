"""Hub settings, read from `HUB_*` environment variables and an optional `.env` file."""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SmsGatewayName = Literal["console", "file", "every8d", "mitake"]


@lru_cache(maxsize=16)  # read on every request (hub.middleware.TrustedProxies); the text rarely changes
def parse_networks(text: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """Comma-separated addresses or CIDRs; a bare address is a network of one."""
    return tuple(ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())


class Settings(BaseSettings):
    """Everything an operator can set. Defaults give a working single-machine hub on SQLite.

    `otp_ttl_seconds` defaults to 300 s, not the city's 30 s. An SMS in Taiwan often takes 5-30 s to
    arrive (longer on a congested cell at a roadblock), and the person must then read and type it; a
    30 s window makes honest logins fail and pushes people into resends, which cost money and hit the
    rate caps. The lifetime barely matters for security: a code is 6 digits, single use, voided by a
    newer one and dead after 5 wrong tries, so a guesser's chance is 5 in 10^6 per code whatever its
    lifetime, and the hourly/daily caps bound how many codes a number or address can ask for.
    Five minutes matches what Taiwanese banks and e-government use. Operators who want the city's
    behaviour can set `HUB_OTP_TTL_SECONDS=30`.
    """

    model_config = SettingsConfigDict(env_prefix="HUB_", env_file=".env", extra="ignore")

    # Storage: SQLite (WAL) by default; PostgreSQL as postgresql+psycopg://user:pw@host/db
    database_url: str = "sqlite:///./var/hub.db"
    database_echo: bool = False

    # Keys (provisioning.keystore.KeyStore). The passphrase may also come from CHECKPASS_PASSPHRASE.
    keys_dir: Path = Path("./var/keys")
    key_passphrase: SecretStr | None = None
    trust_bundle_valid_days: int = Field(default=7, ge=1, le=365)

    # Secret for keyed hashes (OTP codes, national-ID lookup) and SecretBox encryption of national IDs.
    # Must be kept with the database backups but separately from them; changing it makes stored IDs
    # unreadable. `checkpass hub init` generates one into <keys_dir>/hub-secret if this is unset.
    secret_key: SecretStr | None = None

    # SMS
    sms_gateway: SmsGatewayName = "console"
    sms_file_path: Path = Path("./var/sms.jsonl")  # "file" gateway: one JSON line per message
    sms_every8d_base_url: str = "https://oms.every8d.com"
    sms_every8d_username: str = ""
    sms_every8d_subject: str = ""
    sms_every8d_password: SecretStr = SecretStr("")
    sms_mitake_base_url: str = "https://smsapi.mitake.com.tw"
    sms_mitake_username: str = ""
    sms_mitake_password: SecretStr = SecretStr("")
    sms_timeout_seconds: float = Field(default=10.0, gt=0)

    # One-time codes (see the class docstring for the lifetime)
    otp_ttl_seconds: int = Field(default=300, ge=10, le=3600)
    otp_max_attempts: int = Field(default=5, ge=1, le=20)
    otp_resend_cooldown_seconds: int = Field(default=60, ge=0)
    otp_hourly_cap_per_number: int = Field(default=5, ge=1)
    otp_daily_cap_per_number: int = Field(default=10, ge=1)
    otp_hourly_cap_per_ip: int = Field(default=30, ge=1)
    otp_daily_cap_per_ip: int = Field(default=200, ge=1)
    # Check-in codes for one venue (hub.services.otp): the web check-in at /v/{code} for people outside
    # LINE. A busy venue's door sees a few hundred an hour; a venue code on a poster must not let anyone
    # send SMS to any number without bound.
    otp_hourly_cap_per_venue: int = Field(default=300, ge=1)
    otp_daily_cap_per_venue: int = Field(default=2000, ge=1)

    # Console passwords and sessions. Failed logins are throttled with growing delays, never locked out
    # (hub.services.login_throttle; the schedule and why: docs/identity.md). Failures allowed free per
    # (account, address) pair, per account from any address, and per address over any accounts; then
    # the wait starts at login_first_delay_seconds and doubles with every failure up to the maximum.
    login_free_failures_per_pair: int = Field(default=3, ge=1)
    login_free_failures_per_account: int = Field(default=10, ge=1)
    login_free_failures_per_address: int = Field(default=20, ge=1)
    login_first_delay_seconds: int = Field(default=2, ge=1)
    login_max_delay_seconds: int = Field(default=900, ge=1)
    login_failure_memory_hours: int = Field(default=24, ge=1)  # a quiet day forgets the failures
    password_min_length: int = Field(default=10, ge=8)
    token_ttl_seconds: int = Field(default=12 * 3600, ge=60)

    # Passes
    pass_default_valid_days: int = Field(default=28, ge=1, le=366)

    # Checkpoint devices
    # An officer credential covers one shift; 12 h is the longest duty shift at a roadblock, and a
    # device with no network must still accept its officer until the shift ends.
    officer_credential_hours: float = Field(default=12.0, gt=0, le=48)
    # An enrolment QR is made while the device is at hand; an hour covers a station enrolling a stack.
    enrolment_token_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    # docs/CONTRACTS.md caps a batch at 1000 events; an operator may lower it, never raise it.
    max_events_per_batch: int = Field(default=1000, ge=1, le=1000)
    # ID-card checks (hub.services.id_card_check) one officer may make in any hour: enough for a busy
    # roadblock, too few to walk through ID numbers to learn who holds a pass.
    id_card_checks_per_hour: int = Field(default=60, ge=1, le=1000)

    # Retention
    retention_days: int = Field(default=28, ge=1)
    purge_interval_seconds: int = Field(default=3600, ge=0)  # 0 disables the in-app scheduled purge
    # How often one worker re-checks the stored trust bundle and status lists (hub.jobs.runner); 0 off.
    trust_publish_seconds: int = Field(default=60, ge=0)
    # How often one worker signs a head of the audit log's Merkle tree (hub.services.transparency_log,
    # docs/audit-log.md); 0 off. An event is provable, and a change to it detectable, from its first head.
    audit_log_head_seconds: int = Field(default=60, ge=0)
    # Where the signed public documents (trust bundle, full status lists) are also written as files for
    # nginx to serve (hub.jobs.public_files, docs/deploy.md "Public documents as files"); unset, only
    # the hub serves them. Rewritten by the process that changes them and by the publish job above,
    # whose interval bounds how long a file can lag a change made where no hub process saw it.
    public_dir: Path | None = None

    # Requests
    max_upload_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    # Load shedding (hub.middleware, docs/deploy.md): requests admitted per worker (running or waiting
    # their turn) before the next is answered 503 at once.
    max_in_flight: int = Field(default=40, ge=1)
    # Of those, how many run at once; programs' and bulk requests wait in line at most max_queue_wait_ms,
    # then get a 503; people's requests go first and may wait longer (hub/middleware.py, docs/deploy.md).
    max_running: int = Field(default=4, ge=1)
    max_queue_wait_ms: int = Field(default=100, ge=0)
    # Where `serve --workers N` keeps the workers' Prometheus values (hub.metrics); emptied at start.
    metrics_dir: Path = Path("./var/metrics")

    base_url: str = "http://127.0.0.1:8000"
    # Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto the hub believes (comma-separated
    # addresses or CIDRs, e.g. "127.0.0.1,10.0.0.0/8"). Empty (the default): the client address
    # (per-address SMS caps, login throttle, audit) is always the direct peer and the scheme that of
    # the connection, so nobody can pick their own address or claim https with a header. Behind
    # nginx list nginx's address: then the console's cookies are `Secure` and its Origin check expects
    # the https origin (hub.web.request_origin, docs/deploy.md, docs/identity.md).
    trusted_proxies: str = ""

    @field_validator("trusted_proxies")
    @classmethod
    def check_trusted_proxies(cls, value: str) -> str:
        parse_networks(value)  # refuse a typo at start-up, not at the first request
        return value

    @model_validator(mode="after")
    def check_public_dir(self) -> Settings:
        # Without the periodic rewrite a file could lag a change made outside a hub request (a CLI key
        # rotation, a crash between commit and write) for ever, and nginx would keep answering 304.
        if self.public_dir is not None and self.trust_publish_seconds == 0:
            raise ValueError("HUB_PUBLIC_DIR needs HUB_TRUST_PUBLISH_SECONDS > 0 (it bounds a file's lag)")
        return self

    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return parse_networks(self.trusted_proxies)

    # Web console sessions (docs/console.md): ended after this long without a request, and at the latest
    # this long after login.
    console_idle_timeout_seconds: int = Field(default=30 * 60, ge=60)
    console_session_max_seconds: int = Field(default=12 * 3600, ge=300)

    def sms_options(self) -> dict[str, object]:
        """Keyword options for `hub.sms.gateway_from_settings(kind, **options)`."""
        if self.sms_gateway == "file":
            return {"path": self.sms_file_path}
        if self.sms_gateway == "every8d":
            return {
                "base_url": self.sms_every8d_base_url,
                "uid": self.sms_every8d_username,
                "password": self.sms_every8d_password.get_secret_value(),
                "subject": self.sms_every8d_subject,
                "timeout": self.sms_timeout_seconds,
            }
        if self.sms_gateway == "mitake":
            return {
                "base_url": self.sms_mitake_base_url,
                "username": self.sms_mitake_username,
                "password": self.sms_mitake_password.get_secret_value(),
                "timeout": self.sms_timeout_seconds,
            }
        return {}

    def passphrase(self) -> str | None:
        """The key passphrase from settings, else from CHECKPASS_PASSPHRASE (the provisioning CLI's name)."""
        import os

        if self.key_passphrase is not None:
            return self.key_passphrase.get_secret_value()
        return os.environ.get("CHECKPASS_PASSPHRASE")

    # LINE official accounts (hub.line; docs/line.md). A channel is on when both its secret and its
    # token are set; with neither channel on, the hub runs without LINE. HUB_LINE_API_URL is the base of
    # the Messaging API and of its blob endpoints (unset: LINE's own two hosts); HUB_LINE_LOGIN_API_URL is
    # where LIFF ID tokens are verified (POST /oauth2/v2.1/verify). HUB_LINE_LOGIN_CHANNEL_ID is the LINE
    # Login channel the LIFF apps live on; when each official account's LIFF app has a channel of its own,
    # HUB_LINE_{ENTERPRISE,POLICE}_LOGIN_CHANNEL_ID name them, and a page's ID token is then accepted only
    # from the channel whose roles the page serves (hub.line.liff_caller).
    line_enterprise_channel_secret: SecretStr | None = None
    line_enterprise_channel_token: SecretStr | None = None
    line_police_channel_secret: SecretStr | None = None
    line_police_channel_token: SecretStr | None = None
    line_api_url: str | None = None
    line_login_channel_id: str | None = None
    line_enterprise_login_channel_id: str | None = None
    line_police_login_channel_id: str | None = None
    line_login_api_url: str = "https://api.line.me"
    # How long one attempt at a stored LINE event (handling, reply, push, menu link) may run before the
    # inbox worker lets go of the row for another try (hub/jobs/line_inbox.py; docs/line.md). Above what
    # a LINE outage costs an attempt that ends by itself (a reply and a push of 5 tries of 10 s each,
    # hub/line/delivery.py), so an outage still ends in the inbox's backoff; the deadline catches work
    # that waits for ever.
    line_inbox_attempt_seconds: float = Field(default=120.0, gt=0)
    # How many stored LINE events one hub process works on at once (hub/jobs/line_inbox.py). A row in hand
    # mostly waits for LINE's answer to its reply (tens to hundreds of ms from LINE's servers), holding no
    # database connection meanwhile; at 8 a process could not answer more than 8 rows per LINE round trip,
    # and bench/line.py's paced 200 events/s queued for seconds on two processes with the CPU a third idle.
    line_inbox_parallel: int = Field(default=32, ge=1, le=256)
    liff_id_enterprise: str | None = None
    liff_id_police: str | None = None

    def line_enabled(self) -> bool:
        return any(
            secret is not None and token is not None
            for secret, token in (
                (self.line_enterprise_channel_secret, self.line_enterprise_channel_token),
                (self.line_police_channel_secret, self.line_police_channel_token),
            )
        )

    def login_channel_id(self, channel: str) -> str | None:
        """The LINE Login channel of official account `channel`'s LIFF app ("enterprise" or "police")."""
        own = {
            "enterprise": self.line_enterprise_login_channel_id,
            "police": self.line_police_login_channel_id,
        }
        return own.get(channel) or self.line_login_channel_id

    # Offline root (hub.services.trust): the hub never opens a root private key and serves the bundle
    # the operator signed offline and imported. Also on whenever keys_dir holds no root.key.
    root_offline: bool = False


@lru_cache
def get_settings() -> Settings:
    """Process-wide settings; `create_app(settings)` overrides them for tests and the demo."""
    return Settings()
