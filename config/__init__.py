"""Paths of the data files shipped with nhacviec (the unit directory and the sample plan)."""

from __future__ import annotations

from pathlib import Path

CONFIG_DIR: Path = Path(__file__).resolve().parent
SAMPLE_PLAN: Path = CONFIG_DIR / "ke-hoach-cchc-2020.yaml"
UNITS_FILE: Path = CONFIG_DIR / "units.yaml"
# The time zone of working days, send times and every date shown, unless NHACVIEC_TIMEZONE says otherwise
# (config.settings.Settings.tz). The one place it is written.
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"

__all__ = ["CONFIG_DIR", "DEFAULT_TIMEZONE", "SAMPLE_PLAN", "UNITS_FILE"]
