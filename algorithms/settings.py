"""Detection settings (``MEDFRAUD_DETECT_*``): thresholds, community resolution, schedule.

Every threshold an investigator might question lives here with the reason for its default, so a
run's ``parameters`` (recorded on its ``DetectionRun`` node) say exactly what was applied.
"""

from __future__ import annotations

from datetime import datetime

from croniter import croniter
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class DetectionSettings(BaseSettings):
    """Thresholds and parameters of the detection job."""

    model_config = SettingsConfigDict(
        env_prefix="MEDFRAUD_DETECT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    schedule: str = Field(default="0 2 * * *", description="cron expression of scheduled runs")
    engine: str = Field(default="igraph", description="community engine: igraph or gds")
    seed: int = Field(default=42, description="seed of the community detection")
    report_threshold: float = Field(
        default=0.5, ge=0.0, le=1.0, description="rings/findings scoring below are not reported"
    )

    # -- collusion (co-visit) projection ------------------------------------------------------
    # Institution-days with more distinct visitors than this are split by doctor, and doctor-days
    # still larger are dropped: a big hospital's outpatient hall would otherwise link everyone.
    max_group_size: int = Field(default=60, ge=2)
    # An institution-day is a burst when its attendance is far above the institution's normal day.
    burst_factor: float = Field(default=2.0, gt=1.0)
    burst_min_excess: int = Field(default=4, ge=1)
    burst_weight: float = Field(default=1.0, ge=0.0, description="extra pair weight per shared burst day")
    regular_min_days: int = Field(default=40, ge=2, description="visit days that make a patient a regular")
    min_pair_days: int = Field(default=2, ge=1, description="pairs need this many shared days or a burst")
    resolution: float = Field(default=1.0, gt=0.0, description="CPM resolution (min. mean pair weight)")
    min_ring_patients: int = Field(default=4, ge=2)
    min_meeting_days: int = Field(default=3, ge=1, description="days on which a ring met as a group")
    meeting_min_share: float = Field(
        default=0.3, gt=0.0, le=1.0, description="share of members present for a day to count as meeting"
    )
    costly_visit_factor: float = Field(
        default=5.0, gt=1.0, description="one-meeting attendees join when billed this x the usual visit"
    )
    member_min_meetings: int = Field(default=2, ge=1, description="a member must attend this many meetings")
    # Legitimacy: fixed weekly shifts over a long period with chronic diagnoses are care, not fraud.
    shift_min_days: int = Field(default=60, ge=1)
    shift_weekday_share: float = Field(default=0.85, gt=0.0, le=1.0)
    household_max: int = Field(default=6, ge=1, description="largest family sharing address/phone")
    checkup_max_days: int = Field(
        default=2, ge=1, description="an employer's staff meeting on at most this many days: a check-up"
    )
    chronic_prefixes: tuple[str, ...] = ("N18", "Z49", "Z50", "Z99.2", "I69", "G81", "Z00", "Z01")

    # -- shared identifiers --------------------------------------------------------------------
    identifier_min_persons: int = Field(default=3, ge=2)
    identifier_min_addresses: int = Field(default=3, ge=2)
    identifier_max_persons: int = Field(
        default=200, ge=2, description="identifiers shared by more persons are placeholders, not brokers"
    )
    min_shared_ring_persons: int = Field(default=3, ge=2)

    # -- double claims and impossible care ----------------------------------------------------
    injury_window_days: int = Field(default=7, ge=0, description="person+date window without case id")
    injury_prefixes: tuple[str, ...] = ("S", "T")
    amount_tolerance: float = Field(default=0.01, ge=0.0, description="yuan ignored as rounding")

    # -- stay patterns (挂床住院, 分解住院) ---------------------------------------------------------
    elsewhere_min_days: int = Field(
        default=2, ge=1, description="days seen elsewhere inside a stay that make it 挂床 (one: an errand)"
    )
    readmit_days: int = Field(default=15, ge=0, description="readmission within this many days is a split")
    split_min_readmissions: int = Field(default=2, ge=1, description="readmissions in a chain to report")
    cycle_prefixes: tuple[str, ...] = ("Z51", "Z49")  # chemotherapy/radiotherapy and dialysis cycles

    # -- same day, far apart (冒名就医) ---------------------------------------------------------
    far_apart_km: float = Field(
        default=300.0, gt=0.0, description="same-day claims farther apart than this cannot be one person's"
    )

    # -- pharmacy cash-out (刷卡套现) -------------------------------------------------------------
    cash_out_factor: float = Field(default=5.0, gt=1.0, description="purchase this x the usual basket")
    cash_out_min_buyers: int = Field(default=5, ge=2, description="unrelated buyers making a cash-out day")
    cash_out_min_days: int = Field(default=2, ge=1, description="cash-out days making a pharmacy a ring")

    # -- identity -----------------------------------------------------------------------------
    identity_min_jaccard: float = Field(default=0.3, gt=0.0, le=1.0)

    @field_validator("schedule")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        if not croniter.is_valid(value):
            raise ValueError(f"not a valid cron expression: {value!r}")
        return value

    @field_validator("engine")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        if value not in ("igraph", "gds"):
            raise ValueError(f"unknown engine {value!r}; use igraph or gds")
        return value

    def next_run_after(self, moment: datetime) -> datetime:
        """The first scheduled time strictly after ``moment``."""
        nxt: datetime = croniter(self.schedule, moment).get_next(datetime)
        return nxt
