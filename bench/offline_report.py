"""Time `motcua report` on a synthetic province-month (not part of `make test`).

    .venv/bin/python bench/offline_report.py [DOSSIERS]

Writes a JSON-lines file of canonical events (received, a supplement round for
some, then resolved/returned) and times the parse → fold → report path.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import orjson

from reports.offline import Rejected
from reports.sources import FileSource
from schemas.settings import Settings
from streams.rules.calendar import working_calendar
from streams.rules.period import UnitKind


def synthetic_month(path: Path, dossiers: int, seed: int = 7) -> int:
    rnd = random.Random(seed)
    start = datetime(2026, 5, 1, 7, 0)
    count = 0
    with path.open("wb") as out:
        for n in range(dossiers):
            agency = rnd.randrange(60)
            did = f"H44.{100 + agency}-2605-{n:06d}"
            at = start + timedelta(minutes=rnd.randrange(31 * 24 * 60))
            events = [
                {
                    "event_id": f"{did}/r",
                    "dossier_id": did,
                    "type": "received",
                    "at": at.isoformat(),
                    "agency_code": f"H44.{100 + agency}",
                    "agency_name": f"UBND xã {agency}",
                    "level": "commune",
                    "district_code": f"D{agency % 8}",
                    "district_name": f"Huyện {agency % 8}",
                    "procedure_code": f"1.{rnd.randrange(300):06d}",
                    "field_code": f"F{agency % 12}",
                    "field_name": f"Lĩnh vực {agency % 12}",
                    "channel": "online",
                    "time_limit": {"value": rnd.choice([1, 3, 5, 10, 15]), "unit": "working_days"},
                }
            ]
            t = at
            if rnd.random() < 0.2:
                t += timedelta(hours=rnd.randrange(1, 48))
                events.append(
                    {
                        "event_id": f"{did}/s",
                        "dossier_id": did,
                        "type": "supplement_requested",
                        "at": t.isoformat(),
                    }
                )
                t += timedelta(hours=rnd.randrange(1, 96))
                events.append(
                    {
                        "event_id": f"{did}/b",
                        "dossier_id": did,
                        "type": "supplement_received",
                        "at": t.isoformat(),
                    }
                )
            t += timedelta(hours=rnd.randrange(1, 300))
            events.append(
                {"event_id": f"{did}/x", "dossier_id": did, "type": "resolved", "at": t.isoformat()}
            )
            events.append(
                {
                    "event_id": f"{did}/t",
                    "dossier_id": did,
                    "type": "returned",
                    "at": (t + timedelta(hours=2)).isoformat(),
                }
            )
            for e in events:
                out.write(orjson.dumps(e) + b"\n")
            count += len(events)
    return count


def main() -> None:
    dossiers = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "month.jsonl"
        events = synthetic_month(path, dossiers)
        began = time.perf_counter()
        rejects: list[Rejected] = []
        source = FileSource([path], working_calendar(settings), settings.province, rejects.append)
        rows = source.rows(
            datetime(2026, 5, 1, tzinfo=working_calendar(settings).tz),
            datetime(2026, 6, 1, tzinfo=working_calendar(settings).tz),
            UnitKind.AGENCY,
        )
        took = time.perf_counter() - began
    print(
        f"{dossiers} dossiers, {events} events, {len(rows)} rows, {len(rejects)} rejected: "
        f"{took:.1f} s, {events / took:,.0f} events/s"
    )


if __name__ == "__main__":
    main()
