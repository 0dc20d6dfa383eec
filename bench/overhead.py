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

A stage's CPU groups (limits.py) go to the process that does that part here: "server" of the
intake's HTTP POST is the gateway, of a status's POST the portal; the caller's side ("bench") the
other way round (the intake's caller is the load generator, counted as neither); "postgres" and
"broker" to theirs; the portal's verify and sign of each status to the portal.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pipeline

PROCESSES = ("gateway", "postgres", "broker", "portal_sim")
# (stage key of pipeline.stage_costs' source, count per unit, CPU group → process)
GATEWAY_SIDE = {"bench": "gateway", "postgres": "postgres", "broker": "broker"}
INTAKE_WORK: tuple[tuple[str, float, dict[str, str]], ...] = (
    ("http", 1, {"server": "gateway"}),
    ("xsd", 1, GATEWAY_SIDE),
    ("verify", 1, GATEWAY_SIDE),
    ("sign", 1, GATEWAY_SIDE),
    ("commit1", 3, GATEWAY_SIDE),
    ("commit100", 1, GATEWAY_SIDE),
    ("publish", 1, GATEWAY_SIDE),
)
STATUS_WORK: tuple[tuple[str, float, dict[str, str]], ...] = (
    ("sign", 1, GATEWAY_SIDE),
    ("http", 1, {"bench": "gateway", "server": "portal_sim"}),
    ("verify", 1, GATEWAY_SIDE),
    ("commit1", 3, GATEWAY_SIDE),
    ("verify", 1, {"bench": "portal_sim"}),
    ("sign", 1, {"bench": "portal_sim"}),
    ("zeep", 1, {"bench": "gateway"}),
)


def _check_against_the_limit() -> None:
    """The same counts as pipeline.py's sums (a change to one must reach the other)."""

    def counts(parts: tuple[tuple[str, float, dict[str, str]], ...]) -> dict[str, float]:
        out: dict[str, float] = {}
        for key, n, _ in parts:
            out[key] = out.get(key, 0) + n
        return out

    intake = {k: float(n) for k, n in pipeline.INTAKE}
    status: dict[str, float] = {}
    for key, n in (*pipeline.STATUSES, ("zeep", 3)):
        base = {"http_out": "http", "portal_verify": "verify", "portal_sign": "sign"}.get(key, key)
        status[base] = status.get(base, 0) + n / 3
    if counts(INTAKE_WORK) != intake or counts(STATUS_WORK) != status:
        raise AssertionError("overhead.py's work per petition or status differs from pipeline.py's")


def group_costs(stages: list[dict[str, Any]], db: str) -> dict[str, dict[str, float]]:
    """stage key → CPU group → ms per message (zeep: the caller's part beyond the raw HTTP client)."""
    zeep = pipeline.stage_costs(stages, db)["zeep"]["all"]
    return pipeline.stage_groups(stages, db) | {"zeep": {"bench": zeep}}


def modelled(costs: dict[str, dict[str, float]], intakes: int, statuses: int) -> dict[str, float]:
    """Seconds of CPU per process the raw stages would have spent on this work."""
    seconds = dict.fromkeys(PROCESSES, 0.0)
    for parts, units in ((INTAKE_WORK, intakes), (STATUS_WORK, statuses)):
        for key, n, where in parts:
            for group, ms in costs[key].items():
                process = where.get(group)
                if process is not None:
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
    model = modelled(group_costs(limits["stages"], db), intakes, statuses)
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
    _check_against_the_limit()
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
