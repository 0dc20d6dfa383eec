"""Issue 7's whole benchmark in one run: the raw limits first, then inbound, outbound and scale, and
the ratios of each figure to the limits measured minutes before.

    .venv/bin/python bench/run_all.py --out-dir bench/results/run-DATE

Before each step it waits for a quiet machine (1-minute load ≤ `--max-load`, checked every 60 s,
at most `--wait-minutes`) and records the load it started and ended with; a step started on a busy
machine says so. Steps (each a script of its own, see its docstring): limits.py; inbound.py on
PostgreSQL with the portal up (as shipped), the same with the two fixes undone through settings
(`PAKN_MESSAGE_LOG_BATCH=1`, `PAKN_DATABASE_POOL_SIZE=5`), with the portal down (the intake
alone), on SQLite; outbound.py; scale.py; last, inbound.py again under py-spy (its figures are not
used: the profiler slows the gateway).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import inbound
import limits
import outbound
import profiler
import scale
from machine import load_average, machine
from stack import interruptible

RESULTS = Path(__file__).resolve().parent / "results"


def wait_quiet(max_load: float, minutes: float) -> dict[str, Any]:
    started = time.monotonic()
    seen = [load_average()]
    while seen[-1][0] > max_load and time.monotonic() - started < minutes * 60:
        print(f"load {seen[-1]} above {max_load}: waiting 60 s", flush=True)
        time.sleep(60)
        seen.append(load_average())
    return {"waited_s": round(time.monotonic() - started), "load": seen[-1], "quiet": seen[-1][0] <= max_load}


def steps(args: argparse.Namespace, out: Path) -> list[tuple[str, Any, list[str]]]:
    n = ["--count", str(args.count), "--seconds", str(args.seconds)]
    return [
        ("limits", limits.main, ["--seconds", "5", "--count", "20000"]),
        ("inbound_pg", inbound.main, ["--db", "postgresql", *n]),
        (
            "inbound_pg_before",
            inbound.main,
            [
                "--db",
                "postgresql",
                *n,
                "--set",
                "PAKN_MESSAGE_LOG_BATCH=1",
                "--set",
                "PAKN_DATABASE_POOL_SIZE=5",
            ],
        ),
        ("inbound_pg_portal_down", inbound.main, ["--db", "postgresql", "--portal", "down", *n]),
        ("inbound_sqlite", inbound.main, ["--db", "sqlite", *n]),
        ("outbound_pg", outbound.main, ["--cases", str(args.outbound_cases), "--answers", str(args.answers)]),
        (
            "scale",
            scale.main,
            [
                "--cases",
                str(args.cases),
                "--count",
                str(args.count),
                "--seconds",
                str(args.seconds),
                "--queued",
                str(args.queued),
            ],
        ),
        (
            "inbound_profiled",
            inbound.main,
            ["--db", "postgresql", *n, "--profile", str(out / "profile-inbound.txt"), "--profile-gil"],
        ),
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--out-dir", type=Path)
    ap.add_argument("--max-load", type=float, default=1.5)
    ap.add_argument("--wait-minutes", type=float, default=15.0)
    ap.add_argument("--count", type=int, default=4000, help="closed-loop pushes per inbound run")
    ap.add_argument("--seconds", type=float, default=60.0, help="closed-loop seconds per inbound run")
    ap.add_argument("--outbound-cases", type=int, default=3000)
    ap.add_argument("--answers", type=int, default=600)
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--queued", type=int, default=100_000)
    ap.add_argument("--only", nargs="*", help="run only these steps")
    args = ap.parse_args()
    interruptible()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out: Path = args.out_dir or RESULTS / f"run-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {"machine": machine(), "started": stamp, "steps": {}}
    for name, run, argv in steps(args, out):
        if args.only and name not in args.only:
            continue
        before = wait_quiet(args.max_load, args.wait_minutes)
        print(f"\n=== {name} (load {before['load']}, waited {before['waited_s']} s)", flush=True)
        started = time.time()
        code = run([*argv, "--out", str(out / f"{name}.json")])
        record["steps"][name] = {
            "exit": code,
            "seconds": round(time.time() - started),
            "before": before,
            "load_after": load_average(),
            "json": f"{name}.json",
        }
        (out / "run.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    profile = out / "profile-inbound.txt"
    if profile.exists():
        total, shares = profiler.categories(profile)
        record["profile"] = {"samples": total, "categories": [[n, round(s, 4)] for n, s in shares]}
        (out / "run.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"\nall steps written to {out} (pid {os.getpid()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
