"""Month report benchmark through the database (issue 15): the 300,000 calls of
``bench/report_month.py`` (about 3 million call-log events) stored in SQLite, then the
monthly queue report and the agent report run by the ReportService, as the API runs them.

    .venv/bin/python bench/report_month_db.py [--db var/bench-month.db] [--runs 3]

The database is built once (kept at --db; --rebuild to redo it). Each report run is a fresh
process: nothing of an earlier run helps unless it is in the database. With ``--recount``
no day is kept (every run reads the 3 M events); without it the first run computes and
keeps the 31 days (``report_pieces``) and the later ones sum them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent


async def build(db: Path, calls: int, agents: int) -> None:
    from sqlalchemy import insert

    from bench.report_month import events
    from vaxel.storage.database import create_engine, migrate
    from vaxel.storage.models import CallEvent as Row

    db.unlink(missing_ok=True)
    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    await migrate(engine)
    batch: list[dict[str, object]] = []
    n = 0
    async with engine.begin() as conn:
        for e in events(calls, agents):
            batch.append(
                {
                    "call_id": e.call_id,
                    "at": e.at,
                    "kind": e.kind,
                    "queue": e.queue,
                    "agent": e.agent,
                    "a_number": e.a_number,
                    "b_number": e.b_number,
                    "data": e.data,
                }  # fmt: skip
            )
            if len(batch) == 20_000:
                await conn.execute(insert(Row), batch)
                n += len(batch)
                batch.clear()
        if batch:
            await conn.execute(insert(Row), batch)
            n += len(batch)
    await engine.dispose()
    print(f"built {db}: {n} events", file=sys.stderr)


async def report(db: Path, kind: str, keep: bool) -> dict[str, float]:
    from bench.report_month import MONTH
    from config import parse_config
    from vaxel.services import ReportService
    from vaxel.storage import CallLog
    from vaxel.storage.database import create_engine, migrate, sessionmaker
    from vaxel.storage.report_pieces import ReportPieceStore

    text = (ROOT / "config" / "demo.toml").read_text()
    queues = "".join(f'\n[queues.q{i}]\nanswer_groups = ["support"]\n' for i in range(10))
    config = parse_config(text + queues, source="bench")
    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    await migrate(engine)  # a database built before report_pieces existed
    calllog = CallLog(engine)
    pieces = ReportPieceStore(sessionmaker(engine)) if keep else None
    service = ReportService(calllog, config, clock=lambda: time.time(), pieces=pieces)
    y, m = MONTH
    params = service.params(
        {"from": f"{y}-{m:02d}-01T00:00", "to": f"{y}-{m + 1:02d}-01T00:00", "interval": "month"},
        kind,
    )
    t0 = time.perf_counter()
    run = await service.run(params)
    took = time.perf_counter() - t0
    await engine.dispose()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": took, "rows": len(run.table.rows), "max_rss_mb": rss}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, default=ROOT / "var" / "bench-month.db")
    ap.add_argument("--calls", type=int, default=300_000)
    ap.add_argument("--agents", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--child", choices=["key_figures", "agents"], help=argparse.SUPPRESS)
    ap.add_argument(
        "--recount", action="store_true", help="keep no days: every run recounts the month"
    )
    args = ap.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(report(args.db, args.child, not args.recount))))
        return
    if args.rebuild or not args.db.exists():
        t0 = time.perf_counter()
        asyncio.run(build(args.db, args.calls, args.agents))
        print(f"build: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    results: dict[str, list[dict[str, float]]] = {"key_figures": [], "agents": []}
    for _ in range(args.runs):
        for kind in results:  # interleaved
            out = subprocess.run(
                [sys.executable, __file__, "--db", str(args.db), "--child", kind,
                 *(["--recount"] if args.recount else [])],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            r = json.loads(out.stdout)
            results[kind].append(r)
            print(kind, r, file=sys.stderr)
    for kind, runs in results.items():
        secs = [r["seconds"] for r in runs]
        rss = [r["max_rss_mb"] for r in runs]
        print(
            f"{kind}: runs {[round(s, 2) for s in secs]} s, median "
            f"{statistics.median(secs):.2f} s, max RSS median {statistics.median(rss):.0f} MB, "
            f"rows {runs[0]['rows']}"
        )


if __name__ == "__main__":
    main()
