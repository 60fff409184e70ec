"""The 766 scorecard end to end: a hand-made May 2026 (every scorecard flag,
complaints, clock stops, a carried-over dossier) replayed through the real
broker and worker, then `motcua scorecard` from ClickHouse equals `motcua
scorecard --events` on the same file, cell by cell, for every grouping, with
and without a catalogue; and `motcua forecast` agrees too."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_pipeline import Pipeline

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
FROM_TO = ["--from", "2026-05-01", "--to", "2026-06-01"]

A = {"agency_code": "H44.100", "agency_name": "UBND Phường Việt Trì", "level": "commune",
     "district_code": "H44.D01", "district_name": "Thành phố Việt Trì",
     "commune_code": "25789", "commune_name": "Phường Thanh Miếu"}  # fmt: skip
B = {"agency_code": "H44.07", "agency_name": "Sở Công Thương", "level": "province",
     "district_code": "H44.D00", "district_name": "Cấp tỉnh"}  # fmt: skip
P1 = {"procedure_code": "P1", "procedure_name": "Cấp giấy phép", "field_code": "CT",
      "field_name": "Công Thương"}  # fmt: skip
P2 = {"procedure_code": "P2", "procedure_name": "Chứng thực", "field_code": "TP",
      "field_name": "Tư pháp"}  # fmt: skip
P3 = {"procedure_code": "P3", "procedure_name": "Đăng ký hộ kinh doanh", "field_code": "CT",
      "field_name": "Công Thương"}  # fmt: skip
ALL_FLAGS = {"electronic_result": True, "components_digitized": True,
             "reused_digitized_data": True, "from_personal_store": True,
             "vneid_verified": True}  # fmt: skip
CATALOGUE = "code,name,paper_result,full_online_eligible,fee\nP1,Cấp giấy phép,1,x,1\nP2,,0,0,0\n"


def _events() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def dossier(dossier_id: str, at: str, due: str, *fields: dict, **extra: Any) -> None:
        received = {"event_id": f"{dossier_id}:received", "dossier_id": dossier_id,
                    "type": "received", "at": f"2026-{at}:00+07:00",
                    "due_at": f"2026-{due}:00+07:00"}  # fmt: skip
        for f in fields:
            received |= f
        out.append(received | extra)

    def then(dossier_id: str, type_: str, at: str, **extra: Any) -> None:
        n = sum(e["dossier_id"] == dossier_id for e in out)
        out.append({"event_id": f"{dossier_id}:{type_}:{n}", "dossier_id": dossier_id,
                    "type": type_, "at": f"2026-{at}:00+07:00", **extra})  # fmt: skip

    # A-01 early, online full, fee paid online, every flag; a complaint after its result
    dossier("H44.100-260504-0001", "05-04T08:00", "05-08T17:00", A, P1, channel="online",
            online_level="full", fee_due=True, paid_online=True, **ALL_FLAGS)  # fmt: skip
    then("H44.100-260504-0001", "transferred", "05-05T09:00")
    then("H44.100-260504-0001", "resolved", "05-06T10:00")
    then("H44.100-260504-0001", "returned", "05-06T15:00")
    then("H44.100-260504-0001", "complaint", "05-20T09:00")
    # A-02 late, direct; its electronic result reported on a transfer
    dossier("H44.100-260505-0001", "05-05T09:00", "05-07T17:00", A, P2, channel="direct",
            online_level="none")  # fmt: skip
    then("H44.100-260505-0001", "transferred", "05-06T09:00", electronic_result=True)
    then("H44.100-260505-0001", "resolved", "05-11T09:00")
    # A-03 online partial, VNeID; waiting for a supplement at the month's end
    dossier("H44.100-260511-0001", "05-11T09:00", "05-15T17:00", A, P1, channel="online",
            online_level="partial", vneid_verified=True)  # fmt: skip
    then("H44.100-260511-0001", "supplement_requested", "05-12T10:00")
    # A-04 carried over from April, on time on its due date; components digitized
    dossier("H44.100-260427-0001", "04-27T09:00", "05-05T17:00", A, P1, channel="online",
            online_level="full", components_digitized=True)  # fmt: skip
    then("H44.100-260427-0001", "resolved", "05-05T16:00")
    # A-05 postal, procedure not in the catalogue, within due at the month's end
    dossier("H44.100-260525-0001", "05-25T10:00", "06-10T17:00", A, P3, channel="postal",
            online_level="none", from_personal_store=True)  # fmt: skip
    # B-01 online full, a fee paid online during a payment stop, returned early
    dossier("H44.07-260504-0001", "05-04T10:00", "05-12T17:00", B, P2, channel="online",
            online_level="full", fee_due=True)  # fmt: skip
    then("H44.07-260504-0001", "payment_requested", "05-05T09:00")
    then("H44.07-260504-0001", "payment_received", "05-06T09:00", paid_online=True)
    then("H44.07-260504-0001", "returned", "05-08T10:00", electronic_result=True)
    # B-02 direct, overdue at the month's end, complained about
    dossier("H44.07-260518-0001", "05-18T09:00", "05-20T17:00", B, P2, channel="direct")
    then("H44.07-260518-0001", "complaint", "05-25T09:00")
    # B-03 online full, two supplement rounds (late however early), reused data
    dossier("H44.07-260519-0001", "05-19T09:00", "05-29T17:00", B, P1, channel="online",
            online_level="full", reused_digitized_data=True, components_digitized=True)  # fmt: skip
    then("H44.07-260519-0001", "supplement_requested", "05-20T09:00")
    then("H44.07-260519-0001", "supplement_received", "05-21T09:00")
    then("H44.07-260519-0001", "supplement_requested", "05-22T09:00")
    then("H44.07-260519-0001", "supplement_received", "05-25T09:00")
    then("H44.07-260519-0001", "resolved", "05-26T09:00", electronic_result=True)
    # B-04 online full, withdrawn by the citizen
    dossier("H44.07-260528-0001", "05-28T09:00", "06-04T17:00", B, P1, channel="online",
            online_level="full", vneid_verified=True)  # fmt: skip
    then("H44.07-260528-0001", "withdrawn", "05-29T09:00")
    # A dossier of June: not in May at all
    dossier("H44.07-260602-0001", "06-02T09:00", "06-09T17:00", B, P2, channel="online")
    return out


EVENTS = _events()


def motcua(pipeline: Pipeline, *args: str) -> str:
    env = {"PATH": "/usr/bin:/bin", **pipeline.clickhouse.env("reader")}
    out = subprocess.run(
        [sys.executable, "-m", "motcua", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    return out.stdout


def test_the_scorecard_from_clickhouse_equals_the_one_from_the_file(
    broker, clickhouse, tmp_path
) -> None:
    assert len(EVENTS) == 28
    pipeline = Pipeline(broker, clickhouse, tmp_path)
    try:
        pipeline.replay(EVENTS, "may.jsonl")
        pipeline.replay(EVENTS[:5], "again.jsonl")  # re-sent events change nothing
        events = str(tmp_path / "may.jsonl")
        catalogue = tmp_path / "catalogue.csv"
        catalogue.write_text(CATALOGUE, encoding="utf-8")
        for by in ("agency", "field", "procedure", "province", "district", "level"):
            for extra in ([], ["--catalogue", str(catalogue)]):
                args = ["scorecard", *FROM_TO, "--by", by, "--format", "csv", *extra]
                from_file = motcua(pipeline, *args, "--events", events)
                stored = motcua(pipeline, *args, "--source", "clickhouse")
                assert stored == from_file, (by, extra)

        # a few cells by hand (agency, with the catalogue)
        args = ["scorecard", *FROM_TO, "--format", "csv", "--catalogue", str(catalogue)]
        rows = list(csv.DictReader(io.StringIO(motcua(pipeline, *args, "--source", "clickhouse"))))
        cell = {(r["unit_code"], r["indicator"]): r for r in rows}
        # B: finished B-01 early, B-03 late (2 rounds), B-04 withdrawn (early); B-02 overdue
        # → 2.1 = 2/4 = 50 %, 10 points; complaints B-02 of R (4) → 5.4 = 50 − 25 = 25 %
        b21 = cell[("H44.07", "2.1")]
        assert (b21["numerator"], b21["denominator"], b21["points"]) == ("2", "4", "10.00")
        assert (cell[("H44.07", "5.4")]["rate"], cell[("H44.07", "5.4")]["points"]) == (
            "25.00", "1.67",
        )  # fmt: skip
        # 3.6 of A: fee A-01, paid online → 1/1; of B: B-01 paid on its payment_received
        assert cell[("H44.100", "3.6")]["rate"] == cell[("H44.07", "3.6")]["rate"] == "100.00"
        # 4.1 of A: paper result P1 and P3 not listed; er A-01 → 1/3
        a41 = cell[("H44.100", "4.1")]
        assert (a41["numerator"], a41["denominator"], a41["rate"]) == ("1", "3", "33.33")
        assert cell[("H44.100", "1.1")]["source"] == "missing"

        # the table and the forecast from both sources, as a person reads them
        table = ["scorecard", *FROM_TO, "--format", "table"]
        assert motcua(pipeline, *table, "--source", "clickhouse") == motcua(
            pipeline, *table, "--events", events
        )
        forecast = ["forecast", "--at", "2026-05-20T09:00", "--top", "5"]
        stored = motcua(pipeline, *forecast, "--source", "clickhouse")
        assert stored == motcua(pipeline, *forecast, "--events", events)
        assert "H44.07-260518-0001" in stored  # due 05-20 17:00: still undecided at 09:00
    finally:
        pipeline.stop_worker()
