"""The watch after 1 July 2025 (METRICS.md §5, §8): hotspots on (field, area)
and (field, commune) at once, alerts that carry commune and area, and texts
that say "khu vực" / "xã/phường" for two-tier dossiers (hand-worked, as in
test_watch.py: 5/5 late against a field share of 5/10 is hot at z = 1.96)."""

from __future__ import annotations

from datetime import timedelta

from schemas.settings import Settings
from streams.alertmanager import to_alertmanager
from streams.rules.alerts import description, summary
from streams.rules.facts import DossierFacts, dossier_facts
from streams.rules.hotspots import CellKind, HotspotConfig
from streams.rules.watch import WatchConfig, watch_config, watch_step
from tests.unit.helpers import ev, t
from tests.unit.rules.test_watch import CAL, LAND

CONFIG = WatchConfig(
    hotspots=HotspotConfig(min_total=5),
    hotspot_every=timedelta(hours=1),
    hotspot_kinds=(CellKind.DISTRICT, CellKind.COMMUNE),
)
AREA = {"district_code": "H44.D01", "district_name": "Khu vực Việt Trì"}


def dossier(n: int, agency: str, commune: str | None, resolved: bool) -> DossierFacts:
    """Received Mon 2025-09-01 08:00, due Wed 08:00; resolved Mon 10:00 or never."""
    did = f"{agency}-250901-{n:04d}"
    names = {"commune_code": commune, "commune_name": f"Phường {commune}"} if commune else {}
    events = [
        ev("received", t(2025, 9, 1, 8), dossier_id=did, due_at=t(2025, 9, 3, 8),
           agency_code=agency, agency_name=f"UBND {agency}", level="commune", **AREA,
           **LAND, **names),
    ]  # fmt: skip
    if resolved:
        events.append(ev("resolved", t(2025, 9, 1, 10), dossier_id=did))
    facts = dossier_facts(events, CAL)
    assert facts is not None
    return facts


# X1's own dossiers: 5 open (late from Wed); X2's own: 5 resolved on time.
# By area (district cells): one area H44.D01 with 5/10 late = the baseline: not hot.
# By commune: X1 5/5 late against 5/10: hot; X2 0/5: not.
FACTS = [dossier(n, "X1", None, False) for n in range(5)] + [
    dossier(n, "X2", None, True) for n in range(5)
]


def test_commune_hotspot_opens_and_the_area_cell_does_not() -> None:
    watch = CONFIG.hotspot_watch()
    result = watch_step(FACTS, t(2025, 9, 1), t(2025, 9, 3, 12), watch, CAL, CONFIG)
    [opened] = result.hotspots
    assert (opened.cell_kind, opened.field_code, opened.district_code) == (
        CellKind.COMMUNE, "DD", "X1",
    )  # fmt: skip
    assert opened.hotspot_id.startswith("commune:DD|X1|")
    [alert] = [a for a in result.alerts if a.kind == "hotspot"]
    # the commune, and its area for routing
    assert (alert.commune_code, alert.commune_name, alert.area_code, alert.district_code) == (
        "X1", "UBND X1", "H44.D01", "H44.D01",
    )  # fmt: skip
    tz = CAL.tz
    assert summary(alert, tz) == "Điểm nóng trễ hạn: lĩnh vực Đất đai tại xã/phường UBND X1"
    assert description(alert, tz).endswith("Lĩnh vực: Đất đai; xã/phường: UBND X1.")
    labels = to_alertmanager(alert, tz)["labels"]
    assert (labels["commune"], labels["area"], labels["district"]) == ("X1", "H44.D01", "H44.D01")
    # restored from its records, the commune tracker does not re-open it
    restored = CONFIG.hotspot_watch(result.hotspots)
    later = watch_step(FACTS, t(2025, 9, 3, 12), t(2025, 9, 3, 15), restored, CAL, CONFIG)
    assert later.hotspots == []


def test_deadline_alerts_of_a_two_tier_dossier_say_khu_vuc_and_xa_phuong() -> None:
    facts = [dossier(1, "H44.40", "X7", False)]
    result = watch_step(facts, t(2025, 9, 1), t(2025, 9, 4), CONFIG.hotspot_watch(), CAL, CONFIG)
    overdue = next(a for a in result.alerts if a.kind == "overdue")
    assert (overdue.commune_code, overdue.area_code, overdue.two_tier) == ("X7", "H44.D01", True)
    text = description(overdue, CAL.tz)
    assert "khu vực: Khu vực Việt Trì; xã/phường: Phường X7" in text
    assert "huyện" not in text


def test_before_the_reform_the_texts_still_say_huyen() -> None:
    received = ev("received", t(2025, 6, 2, 8), dossier_id="H44.100-250602-0001",
                  due_at=t(2025, 6, 3, 8), district_code="H44.D01",
                  district_name="Thành phố Việt Trì", **LAND)  # fmt: skip
    facts = dossier_facts([received], CAL)
    assert facts is not None
    result = watch_step([facts], t(2025, 6, 2), t(2025, 6, 5), CONFIG.hotspot_watch(), CAL, CONFIG)
    overdue = next(a for a in result.alerts if a.kind == "overdue")
    assert not overdue.two_tier
    assert "huyện: Thành phố Việt Trì" in description(overdue, CAL.tz)


def test_the_watch_runs_district_and_commune_cells_by_default() -> None:
    assert watch_config(Settings()).hotspot_kinds == (CellKind.DISTRICT, CellKind.COMMUNE)
    chosen = watch_config(Settings(hotspot_cells=["area", "commune", "area"]))
    assert chosen.hotspot_kinds == (CellKind.AREA, CellKind.COMMUNE)
