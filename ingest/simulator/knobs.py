"""The simulator's knobs: everything a run can vary, with realistic defaults."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Knobs:
    seed: int = 1
    # fraction of realistic volume (1.0 ≈ a mid-size province: ~50,000 dossiers a month)
    scale: float = 0.05
    online_share: float = 0.99  # 2026-like: ~99% of dossiers arrive online
    land_hotspots: tuple[str, ...] = ("H44.D04",)  # districts where land runs late
    personal_data: bool = True  # plant obviously fake personal fields in sync records
    weekend_share: float = 0.03  # an ordinary weekend day's receipts vs a working day's
    evening_share: float = 0.04  # online receipts after hours on a working day
    refused_share: float = 0.01  # refused at the counter: sync records only, never a dossier
    supplement_share: float = 0.12  # dossiers with a supplement round (land: more)
    withdraw_share: float = 0.015
    reject_share: float = 0.01
    apology_share: float = 0.6  # late resolved dossiers with an apology (xin lỗi, hẹn lại)
    digitized_share: float = 0.85
    # The 766 scorecard's flags (METRICS.md §7). Only the online share is calibrated
    # (../shared/data/portal-766: channelOnlineSum / channelTotalSum = 150,956 /
    # 152,595 = 98.9 % in August 2026); the portal publishes no dossier-level
    # figure for the rest, so these are guesses of a province well on its way:
    electronic_result_share: float = 0.8  # resolved dossiers issued an electronic result
    components_digitized_share: float = 0.8  # components with a file (TaiLieuNop)
    reused_share: float = 0.35  # a component taken from digitized data (DuocSoHoa)
    personal_store_share: float = 0.15  # online: a component from the personal store
    vneid_share: float = 0.9  # online: the account verified with VNeID (0 at the counter)
    complaint_share: float = 0.004  # dossiers complained about after the return

    def __post_init__(self) -> None:
        if not 0 < self.scale <= 10:
            raise ValueError(f"scale must be in (0, 10], got {self.scale}")
        for name in (
            "online_share", "weekend_share", "evening_share", "refused_share",
            "electronic_result_share", "components_digitized_share", "reused_share",
            "personal_store_share", "vneid_share", "complaint_share",
        ):  # fmt: skip
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
