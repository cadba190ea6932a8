"""Settings from the environment (``NHACVIEC_*``), with embedded defaults that work on a fresh machine."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config import CONFIG_DIR, DEFAULT_TIMEZONE, SAMPLE_PLAN, UNITS_FILE


class Settings(BaseSettings):
    """Everything an installation may change, read from ``NHACVIEC_<NAME>`` variables.

    Secrets (SMTP password, bot token, Zalo keys) are added here by the delivery
    code as ``SecretStr`` fields, so they never print in a repr or a log line.
    """

    model_config = SettingsConfigDict(env_prefix="NHACVIEC_", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str | None = None
    units_file: Path = UNITS_FILE
    sample_plan: Path = SAMPLE_PLAN
    calendar_file: Path = CONFIG_DIR / "calendar.yaml"
    rules_file: Path = CONFIG_DIR / "rules.yaml"
    send_time: str | None = None  # HH:MM; default: the calendar file's
    timezone: str = DEFAULT_TIMEZONE  # of working days, send times, dates shown; overrides calendar.yaml's

    # Templates: an admin's folder of overrides (same layout as templates/), rendered in the sandbox.
    templates_dir: Path | None = None
    # ZNS template ids (approved by Zalo in advance), per notification kind: config/zns.yaml.
    zns_templates_file: Path = CONFIG_DIR / "zns.yaml"

    # Email (aiosmtplib). No host: messages go to the file sink instead.
    smtp_host: str | None = None
    smtp_port: int | None = None  # default: 465 with tls, 587 with starttls, 25 otherwise
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "Văn phòng Sở <nhacviec@localhost>"
    smtp_tls: Literal["none", "starttls", "tls"] = "starttls"
    smtp_timeout: float = 30.0
    smtp_pool_size: int = 4  # connections kept open and used concurrently

    # Telegram (python-telegram-bot). api_url: a self-hosted Bot API server (or a test server).
    telegram_token: SecretStr | None = None
    telegram_api_url: str | None = None
    # The bot's @name for invite links (https://t.me/<name>?start=CODE); default: asked of Telegram (getMe).
    telegram_bot_username: str | None = None

    # Zalo Official Account and ZNS (httpx). The refresh token is read on first start only;
    # the rotated pair lives in the database.
    zalo_app_id: str | None = None
    zalo_secret_key: SecretStr | None = None
    zalo_refresh_token: SecretStr | None = None
    zalo_api_url: str = "https://openapi.zalo.me"
    zalo_business_api_url: str = "https://business.openapi.zalo.me"
    zalo_oauth_url: str = "https://oauth.zaloapp.com"
    # Requests per minute to Zalo (no public figure: start conservative).
    zalo_rate_per_minute: int = Field(default=120, ge=1)
    # The OA webhook (POST /zalo/webhook): the OA secret key that signs its events (not the app's secret).
    # With it set, the notifier knows each follower's last interaction and uses ZNS outside the OA's window.
    zalo_oa_secret_key: SecretStr | None = None
    zalo_oa_window_days: float = Field(default=7.0, gt=0)  # consultation messages: days after an interaction
    # The OA's public page (https://zalo.me/<OA id>): Zalo invites show it as a QR code to follow the OA.
    zalo_oa_link: str | None = None

    # Readiness (nhacviec doctor, run): a directory entry with a placeholder address (the sample's
    # example.* emails, 0900000000-like numbers...) stops `run` when a channel is configured to really send,
    # unless this allows it (a demonstration).
    allow_placeholders: bool = False
    check_timeout_seconds: float = Field(default=10.0, gt=0)  # each channel check of `doctor`

    # File sink: one .eml / .txt per message, the default when no channel is configured.
    sink_dir: Path | None = None  # default: <data_dir>/sent
    console_sink: bool = True

    # Completion links in emails ("Đã hoàn thành"): HMAC secret and the public address of the web page.
    link_secret: SecretStr | None = None
    base_url: str | None = None
    link_ttl_days: int = 30

    # The execution report's letterhead (`nhacviec report build`, the web's "Báo cáo"): the governing body
    # above the issuer, the issuer, the symbol after the number ("Số: ../BC-SGDĐT"), the place before the
    # date, and the body the report goes to ("Kính gửi"). The signer is the Director of the unit directory.
    report_authority: str = "UBND tỉnh Hoà Bình"
    report_issuer: str = "Sở Giáo dục và Đào tạo"
    report_symbol: str = "BC-SGDĐT"
    report_place: str = "Hoà Bình"
    report_recipient: str = "Sở Nội vụ"

    # Outbox: a message is retried (backoff up to retry_max_seconds, then at that interval) until it has had
    # max_attempts sends AND retry_window_hours have passed since it was due; then it is dead-lettered.
    max_attempts: int = 6
    retry_window_hours: float = Field(default=24.0, ge=0)
    retry_base_seconds: float = 30.0
    retry_max_seconds: float = 3600.0
    claim_lease_seconds: float = 600.0

    # The service
    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"
    retry_job_seconds: float = 60.0
    max_catchup_days: int = 31  # after longer downtime, older days are not planned again (logged)
    standby_poll_seconds: float = 5.0  # a standby instance asks for the lock this often (takes over well within 30 s)  # a row claimed longer ago by another host is taken again

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"múi giờ '{value}' không tồn tại (ví dụ {DEFAULT_TIMEZONE})") from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The time zone every layer uses (``NHACVIEC_TIMEZONE``)."""
        return ZoneInfo(self.timezone)

    @property
    def effective_sink_dir(self) -> Path:
        return self.sink_dir or self.data_dir / "sent"

    @cached_property
    def effective_database_url(self) -> str:
        """``NHACVIEC_DATABASE_URL``, or a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'nhacviec.db'}"


def get_settings() -> Settings:
    return Settings()
