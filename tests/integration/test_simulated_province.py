"""End to end on a simulated province: the simulator's sync records →
`motcua ingest file` → broker → worker → ClickHouse, whose period report
must equal the simulator's ground truth, which the simulator works out from
its own construction (ingest/simulator/truth.py), not with the pipeline's
rules. The planted applicant data must be nowhere downstream.

Apologies are off in this run: a sync record has no field for them (EVENTS.md
§2), so that route cannot carry them.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ingest.simulator.knobs import Knobs
from ingest.simulator.outputs import JsonLines, TruthWriter, write_units
from ingest.simulator.simulation import Format, Simulation
from motcua import app
from streams.clickhouse.sql import DATABASE
from streams.rules.calendar import working_calendar
from streams.rules.period import UnitKind
from tests.histories import TZ
from tests.integration.loopback import topic_values
from tests.integration.test_pipeline import Pipeline

pytestmark = pytest.mark.integration
START, END = date(2026, 5, 1), date(2026, 6, 1)


@pytest.fixture
def pipeline(broker, clickhouse, tmp_path):
    p = Pipeline(broker, clickhouse, tmp_path)
    yield p
    p.stop_worker()


def test_simulated_month_via_sync_records_matches_the_ground_truth(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    settings = pipeline.settings
    sim = Simulation(
        START, END, Knobs(seed=3, scale=0.01, apology_share=0.0), working_calendar(settings)
    )
    records, units, totals = tmp_path / "records.jsonl", tmp_path / "units.json", tmp_path / "t.csv"
    truth = TruthWriter(sim, None, settings.province)
    with JsonLines(records) as out:
        for item in sim.stream(Format.SYNC, on_item=truth):
            out.write(item)
    truth.close(totals)
    write_units(units, sim)
    planted = set()
    for line in records.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        planted |= {record[k] for k in ("ChuHoSo", "SoCMND", "SoDienThoai", "Email") if k in record}
    assert len(planted) > 100  # the run does carry applicant data

    args = ["ingest", "file", str(records), "--units", str(units)]
    args += ["--state", str(tmp_path / "records.sqlite"), "--wait", "--timeout", "120"]
    result = CliRunner().invoke(app, args, env=pipeline.env())
    assert result.exit_code == 0, result.output
    assert " 0 lỗi" in result.output  # every record accepted
    assert "Mọi sự kiện đã được lưu vào ClickHouse." in result.output  # --wait
    start, end = (datetime.combine(d, datetime.min.time(), TZ) for d in (START, END))
    expected = totals.read_text(encoding="utf-8").splitlines()
    assert len(expected) > 40  # dozens of agencies
    reported = pipeline.csv(start, end, UnitKind.AGENCY)
    assert reported == expected, pipeline.explain()

    downstream = [
        b"\n".join(topic_values(settings.bootstrap_servers, settings.events_topic)).decode(),
        b"\n".join(topic_values(settings.bootstrap_servers, settings.dead_letter_topic)).decode(),
        (tmp_path / "worker.log").read_text(errors="replace"),
        result.output,
        json.dumps(
            pipeline.engine.rows(f"SELECT payload FROM {DATABASE}.raw_events")
            + pipeline.engine.rows(f"SELECT * FROM {DATABASE}.dead_letters")
            + pipeline.engine.rows(f"SELECT * FROM {DATABASE}.dossier_facts"),
            default=str,
            ensure_ascii=False,
        ),
    ]
    leaked = [p for p in planted if any(p in text for text in downstream)]
    assert leaked == []
