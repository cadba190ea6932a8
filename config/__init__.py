"""Paths of the data files shipped with nhacviec (the unit directory and the sample plan)."""

from __future__ import annotations

from pathlib import Path

CONFIG_DIR: Path = Path(__file__).resolve().parent
SAMPLE_PLAN: Path = CONFIG_DIR / "ke-hoach-cchc-2020.yaml"
UNITS_FILE: Path = CONFIG_DIR / "units.yaml"

__all__ = ["CONFIG_DIR", "SAMPLE_PLAN", "UNITS_FILE"]
