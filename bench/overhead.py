"""Where the CPU above the raw stages goes, process by process: one inbound run against the limits.

    .venv/bin/python bench/overhead.py bench/results/run-DATE/limits.json \
        bench/results/run-DATE/inbound-X.json [more inbound JSON] [--phase "half rate"]

The pipeline limit (bench/pipeline.py) says how much CPU the raw stages cost for a petition and a
status. A phase of bench/inbound.py did a known amount of work — petitions accepted and statuses
delivered to the portal during it — and measured the CPU of each process. This puts the two side
by side: the CPU the raw stages would have spent in the gateway, PostgreSQL, the broker and the
portal (the simulator) for that work, and what they spent. A ratio of 1 means that process did
nothing beyond the raw stages; the gateway's ratio is its own overhead (its framework, its store
code, zeep around the call); PostgreSQL's, the statements beyond one commit per step.

The work and the process each stage's CPU is spent in are pipeline.py's (`INTAKE`, `STATUSES`,
`IN_GATEWAY`, `ELSEWHERE`): the same sums as the limit, split by process. The intake's caller is the
load generator, counted in none of the four.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pipeline

PROCESSES = ("gateway", "postgres", "broker", "portal_sim")
# one status's share of pipeline.STATUSES (a petition's three), with zeep's own cost per call
PER_STATUS = (
    *((key, n / pipeline.STATUSES_PER_PETITION) for key, n in pipeline.STATUSES),
    *pipeline.ZEEP_PER_STATUS,
)


def modelled(costs: dict[str, dict[str, float]], intakes: int, statuses: int) -> dict[str, float]:
    """Seconds of CPU per process the raw stages would have spent on this work."""
    seconds = dict.fromkeys(PROCESSES, 0.0)
    for parts, units in ((pipeline.INTAKE, intakes), (PER_STATUS, statuses)):
        for key, n in parts:
            for process, ms in costs[key].items():
                if process in seconds:
                    seconds[process] += units * n * ms / 1000
    return seconds


def compare(limits: dict[str, Any], run: dict[str, Any], phase: str, db: str) -> dict[str, Any]:
    found = next(p for p in run["phases"] if p["phase"] == phase)
    before = found.get("national_outbox_before", {}).get("delivered", 0)
    statuses = found.get("national_outbox_after", {}).get("delivered", 0) - before
    intakes = int(found["accepted"])
    # The CPU percentages are of the meter's time (the push and the wait for the cases); runs from
    # before 2026-12-03 13:40 did not record it, and their push time is ~1-2 % shorter.
    wall = float(found.get("cpu_wall_seconds", found["push_seconds"]))
    model = modelled(pipeline.process_costs(limits["stages"], db), intakes, statuses)
    rows = []
    for process in PROCESSES:
        measured = found["cpu_percent_of_one_core"].get(process, 0.0) / 100 * wall
        rows.append(
            {
                "process": process,
                "measured_cpu_s": round(measured, 2),
                "raw_stages_cpu_s": round(model[process], 2),
                "ratio": round(measured / model[process], 2) if model[process] else None,
            }
        )
    return {"phase": phase, "seconds": wall, "petitions": intakes, "statuses": statuses, "processes": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("limits", type=Path)
    ap.add_argument("inbound", type=Path, nargs="+")
    ap.add_argument("--phase", default="closed loop")
    ap.add_argument("--db", default="postgresql")
    args = ap.parse_args()
    limits = json.loads(args.limits.read_text(encoding="utf-8"))
    print(
        "| run | petitions, statuses in the phase | process | CPU s measured | CPU s of the raw stages "
        "| ratio |"
    )
    print("|---|---|---|---:|---:|---:|")
    for path in args.inbound:
        result = compare(limits, json.loads(path.read_text(encoding="utf-8")), args.phase, args.db)
        work = f"{result['petitions']:,}, {result['statuses']:,} in {result['seconds']:.0f} s"
        for row in result["processes"]:
            ratio = "—" if row["ratio"] is None else f"{row['ratio']:.2f}"
            print(
                f"| {path.stem} | {work} | {row['process']} | {row['measured_cpu_s']:.1f} "
                f"| {row['raw_stages_cpu_s']:.1f} | {ratio} |"
            )


if __name__ == "__main__":
    main()
