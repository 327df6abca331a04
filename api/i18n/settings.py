"""``MEDFRAUD_LANG``: the language of what users read when their request names none."""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class LangSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MEDFRAUD_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Simplified Chinese: the bureaus' staff and the police read it; English is on request
    lang: Literal["zh", "en"] = "zh"
