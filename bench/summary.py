"""The tables of BENCHMARKS.md from one run_all.py directory, with the ratios to the limits and
issue 7's targets, target by target.

    .venv/bin/python bench/summary.py bench/results/run-DATE
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def _load(directory: Path, name: str) -> dict[str, Any] | None:
    path = directory / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _f(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def limits_table(lim: dict[str, Any]) -> list[str]:
    rows = ["| stage | case | per second | CPU ms / message (where) |", "|---|---|---:|---|"]
    for s in lim["stages"]:
        where = ", ".join(f"{k} {1000 * v / max(s['count'], 1):.3f}" for k, v in s["cpu"].items() if v)
        rows.append(
            f"| {s['stage']} | {s['case']} | {_f(s['per_second'])} "
            f"| {s['cpu_ms_per_message']:.3f} ({where}) |"
        )
    return rows


def pipeline_table(lim: dict[str, Any]) -> list[str]:
    rows = [
        "| store | path | CPU ms / petition | limit on 2 cores | one-process bound |",
        "|---|---|---:|---:|---:|",
    ]
    for db, p in lim["pipeline"].items():
        for key, title in (
            ("intake_to_unit_queue", "intake → unit queue"),
            ("with_statuses_to_portal", "+ 3 statuses to the portal"),
        ):
            x = p[key]
            rows.append(
                f"| {db} | {title} | {x['cpu_ms_per_petition']:.2f} | {_f(x['limit_per_second'])}/s "
                f"| {_f(x['one_process_limit_per_second'])}/s |"
            )
    return rows


def inbound_rows(runs: dict[str, dict[str, Any]]) -> list[str]:
    rows = [
        "| run | sustained /s | to unit queue /s | receipts /s | to queue p50 / p95 / p99 ms"
        " | half rate: rate, p99 to queue / receipt ms | CPU % gw / broker / pg / sim | RSS max MiB"
        " | statements / petition"
        " | load start→end |",
        "|---|---:|---:|---:|---|---|---|---:|---:|---|",
    ]
    for name, run in runs.items():
        loop = next(p for p in run["phases"] if p["phase"] == "closed loop")
        half = next(p for p in run["phases"] if p["phase"] == "half rate")
        q, hq, hr = loop["push_to_unit_queue_ms"], half["push_to_unit_queue_ms"], half["push_to_receipt_ms"]
        c = loop["cpu_percent_of_one_core"]
        st = loop.get("store_per_petition") or {}
        statements = st.get("scans", 0) + st.get("inserted", 0) + st.get("updated", 0) if st else None
        la = run["load_average"]
        rows.append(
            f"| {name} | {loop.get('sustained', {}).get('per_second', '—')} "
            f"| {loop['to_unit_queue_per_second']} | {loop['receipts_per_second']} "
            f"| {q['p50']} / {q['p95']} / {q['p99']} "
            f"| {half['target_rate']:.0f}/s: {hq['p99']} / {hr['p99']} "
            f"| {c.get('gateway')} / {c.get('broker')} / {c.get('postgres', '—')} / {c.get('portal_sim')} "
            f"| {loop['gateway_rss_mib']['max']} | {_f(statements, 1)} | {la['start'][0]}→{la['end'][0]} |"
        )
    return rows


def outbound_rows(out: dict[str, Any]) -> list[str]:
    rows = [
        "| phase | at portal | per second | reply → portal p50 / p99 ms | CPU % gw / pg / sim"
        " | RSS max MiB |",
        "|---|---:|---:|---|---|---:|",
    ]
    for p in out["phases"]:
        q, c = p["reply_to_portal_ms"], p["cpu_percent_of_one_core"]
        rows.append(
            f"| {p['phase']} | {p['at_portal']}/{p['replies']} | {p['per_second']} | {q['p50']} / {q['p99']} "
            f"| {c.get('gateway')} / {c.get('postgres')} / {c.get('portal_sim')} "
            f"| {p['gateway_rss_mib']['max']} |"
        )
    return rows


def scale_rows(sc: dict[str, Any]) -> list[str]:
    rows = [
        "| store | to unit queue /s | receipts /s | to queue p50 / p99 ms | CPU % gw / pg | RSS max MiB |",
        "|---|---:|---:|---|---|---:|",
    ]
    for name, r in sc["results"].items():
        q, c = r["push_to_unit_queue_ms"], r["cpu_percent_of_one_core"]
        rows.append(
            f"| {name} | {r['to_unit_queue_per_second']} | {r['receipts_per_second']} "
            f"| {q['p50']} / {q['p99']} "
            f"| {c.get('gateway')} / {c.get('postgres')} | {r['gateway_rss_mib']['max']} |"
        )
        if "backlog" in r:
            b = r["backlog"]
            rows.append(
                f"| {name}, {b['depth']:,} queued on {b['unit']} | — | {b['receipts_per_second']} | — | — "
                f"| {b['gateway_rss_before_mib']} → {b['gateway_rss_after_mib']['max']} |"
            )
    return rows


def targets(directory: Path) -> list[str]:
    lim, pg = _load(directory, "limits"), _load(directory, "inbound_pg")
    out, sc = _load(directory, "outbound_pg"), _load(directory, "scale")
    rows = ["| target | measured | met |", "|---|---|---|"]
    if pg and lim:
        loop = next(p for p in pg["phases"] if p["phase"] == "closed loop")
        half = next(p for p in pg["phases"] if p["phase"] == "half rate")
        queue = loop["to_unit_queue_per_second"]
        rate = loop.get("sustained", {}).get("per_second", queue)
        full = lim["pipeline"]["postgresql"]["with_statuses_to_portal"]["limit_per_second"]
        intake = lim["pipeline"]["postgresql"]["intake_to_unit_queue"]["limit_per_second"]
        rows.append(
            f"| inbound ≥ 1,000 petitions/s sustained | {rate}/s sustained ({queue}/s to the unit queues) "
            f"| {'yes' if rate >= 1000 else 'no'} |"
        )
        rows.append(
            f"| inbound ≥ 50 % of the pipeline limit | sustained {100 * rate / full:.0f} % of {full:.0f}/s "
            f"(with the statuses); to the queues {100 * queue / intake:.0f} % of {intake:.0f}/s (intake "
            f"alone) | {'yes' if rate >= full / 2 and queue >= intake / 2 else 'no'} |"
        )
        p99 = half["push_to_unit_queue_ms"]["p99"]
        rows.append(
            f"| p99 < 100 ms at half load | {p99} ms to the unit queue at {half['target_rate']:.0f}/s "
            f"| {'yes' if p99 is not None and p99 < 100 else 'no'} |"
        )
        rss = max(p["gateway_rss_mib"]["max"] for p in pg["phases"])
        rows.append(f"| RSS < 300 MB (inbound) | {rss} MiB | {'yes' if rss * 1.048576 < 300 else 'no'} |")
    if out:
        by = {p["phase"]: p for p in out["phases"]}
        statuses = min(by["claim"]["per_second"], by["note"]["per_second"])
        rows.append(
            f"| outbound ≥ 500 signed statuses/s | claims {by['claim']['per_second']}/s, notes "
            f"{by['note']['per_second']}/s | {'yes' if statuses >= 500 else 'no'} |"
        )
        rows.append(
            f"| outbound ≥ 100 signed answer PDFs/s | {by['answer']['per_second']}/s "
            f"| {'yes' if by['answer']['per_second'] >= 100 else 'no'} |"
        )
    if sc:
        ratio = sc["seeded_over_empty"]
        rows.append(
            f"| 1M stored ≥ 90 % of empty | {100 * ratio:.0f} % | {'yes' if ratio >= 0.9 else 'no'} |"
        )
        backlog = sc["results"]["seeded"].get("backlog", {})
        if backlog:
            rss = backlog["gateway_rss_after_mib"]["max"]
            rows.append(
                f"| RSS < 300 MB with {backlog['depth']:,} queued | {rss} MiB "
                f"| {'yes' if rss * 1.048576 < 300 else 'no'} |"
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("directory", type=Path)
    directory = parser.parse_args().directory
    lim = _load(directory, "limits")
    if lim:
        print(
            "\n".join(
                [
                    "### Raw limits",
                    "",
                    *limits_table(lim),
                    "",
                    "### Pipeline limits",
                    "",
                    *pipeline_table(lim),
                ]
            )
        )
    runs = {
        n: r
        for n in (
            "inbound_pg",
            "inbound_pg_before",
            "inbound_pg_portal_down",
            "inbound_sqlite",
            "inbound_profiled",
        )
        if (r := _load(directory, n))
    }
    if runs:
        print("\n".join(["", "### Inbound", "", *inbound_rows(runs)]))
    out = _load(directory, "outbound_pg")
    if out:
        print("\n".join(["", "### Outbound", "", *outbound_rows(out)]))
    sc = _load(directory, "scale")
    if sc:
        print("\n### Scale\n")
        print(f"seeding: {sc['seeding']}\n")
        print("\n".join(scale_rows(sc)))
    print("\n".join(["", "### Targets", "", *targets(directory)]))


if __name__ == "__main__":
    main()
