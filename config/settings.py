"""Settings from the environment (``NHACVIEC_*``), with embedded defaults that work on a fresh machine."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from config import CONFIG_DIR, SAMPLE_PLAN, UNITS_FILE


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
    timezone: str = "Asia/Ho_Chi_Minh"

    @cached_property
    def effective_database_url(self) -> str:
        """``NHACVIEC_DATABASE_URL``, or a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'nhacviec.db'}"


def get_settings() -> Settings:
    return Settings()
