"""The machine's raw limits, stage by stage, then the inbound pipeline limit computed from them.

Run by hand (not a test, not in CI), from the repository root, on a quiet machine:

    .venv/bin/python bench/limits.py --seconds 5 --count 20000 --out bench/results/limits-DATE.json

Stages (each stops at `--count` messages or `--seconds`, whichever first): aio-pika publish with
confirms to a quorum queue (awaited, pipelined in windows of 100 and 1000) and consume + ack
(prefetch 50 and 500), in a RabbitMQ virtual host of its own that is deleted afterwards; lxml parse
and parse + XSD of a generated, signed `PetitionMessage` (the project's schema); XML-DSig sign and
verify of it (`signing`, key and trust store loaded once); raw RSA-2048 sign and verify with
cryptography; rendering an answer letter and PAdES-signing it (and signing it with the stamp
font of before BENCHMARKS.md's fix, for the comparison); a no-op HTTP POST and one that parses +
validates, to the gateway's server stack in a process of its own; 3 KB rows committed 1 and 100
at a time, and single SELECTs through an AsyncSession, on SQLite and on a PostgreSQL database of
its own. Each row gives the wall rate and the CPU per message where it was spent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import harness
import limit_stages as st
import pipeline
from envelopes import signed_envelopes
from lxml import etree
from machine import load_average, machine
from stack import interruptible

import signing
from gateway.bootstrap import load_schema
from gateway.inbound.soap_envelope import detach, request_element
from gateway.inbound.xml_guard import parse_untrusted

RESULTS = Path(__file__).resolve().parent / "results"


def sample_message(key: signing.SigningKey) -> tuple[bytes, etree._Element]:
    """The median-sized signed PetitionMessage of 41 generated ones (detached), and it unsigned."""
    envelopes = sorted(signed_envelopes(key, 41, seed=11, prefix="LIMITS"), key=lambda e: len(e.body))
    median = envelopes[len(envelopes) // 2]
    element = request_element(parse_untrusted(median.body, max_bytes=1 << 24, max_depth=64))
    detached = detach(element)
    unsigned = etree.fromstring(detached)
    for signature in unsigned.findall("{http://www.w3.org/2000/09/xmldsig#}Signature"):
        unsigned.remove(signature)
    return detached, unsigned


async def measure(args: argparse.Namespace) -> list[st.Stage]:
    stages: list[st.Stage] = []
    with tempfile.TemporaryDirectory(prefix="pakn-limits-") as directory:
        work = Path(directory)
        pki = signing.init_dev_pki(work / "pki")
        key = signing.load_pem_key(pki.national_cert, pki.national_key)  # once: see LIMITS.md
        trust = pki.trust_store()
        detached, unsigned = sample_message(key)
        seconds, count = args.seconds, args.count
        with harness.own_vhost() as amqp_url:
            stages += await st.amqp_stages(amqp_url, count, seconds)
        _show(stages)
        stages += st.xml_stages(detached, load_schema(), count, seconds)
        stages += st.dsig_stages(unsigned, detached, key, trust, min(count, 5000), seconds)
        stages += st.rsa_sign_stage(count, seconds)
        _show(stages)
        ministry = signing.load_pem_key(pki.ministry_cert, pki.ministry_key)
        # sign_pdf refuses to run on an event loop's thread (it would stall the loop): a thread of its own
        stages += await asyncio.to_thread(st.pdf_stages, ministry, min(count, 300), seconds)
        _show(stages)
        stages += await st.http_stages(detached, args.connections, count, seconds)
        stages.append(await st.zeep_stage(min(count, 3000), seconds))
        _show(stages)
        for db in args.db:
            with harness.own_database(db, work) as url:
                stages += await st.db_stages(db, url, count, seconds)
        _show(stages)
    return stages


_shown = 0


def _show(stages: list[st.Stage]) -> None:
    """Print the rows not printed yet (so a long run shows progress)."""
    global _shown
    for s in stages[_shown:]:
        groups = " ".join(f"{k}={1000 * v / max(s.count, 1):.3f}" for k, v in s.cpu.items())
        rate = f"{s.per_second:10,.0f}/s"
        print(f"{s.stage[:38]:38} {s.case[:36]:36} {rate}  {s.cpu_ms():7.3f} ms CPU  ({groups})")
    _shown = len(stages)


def print_limits(limits: dict[str, Any]) -> None:
    for name, title in (
        ("intake_to_unit_queue", "inbound: POST → receipt → unit queue"),
        ("with_statuses_to_portal", "… and its 3 statuses signed to the portal"),
        ("outbound_status", "outbound: unit reply → signed status at portal"),
        ("outbound_status_batched_replies", "… with the replies' commits batched too"),
        ("with_statuses_to_portal_with_zeep", "inbound with statuses, + zeep per status"),
        ("outbound_status_with_zeep", "outbound status, + zeep's own cost"),
        ("outbound_status_batched_replies_with_zeep", "… batched replies, + zeep's own cost"),
    ):
        if name not in limits:
            continue
        lim = limits[name]
        print(
            f"{title:44} {lim['cpu_ms_per_petition']:6.2f} ms CPU each → "
            f"limit {lim['limit_per_second']:7,.0f}/s on {limits['cores']} cores; "
            f"one process {lim['one_process_limit_per_second']:7,.0f}/s"
        )
        terms = ", ".join(f"{t['stage']}×{t['per_petition']:g} {100 * t['share']:.0f}%" for t in lim["terms"])
        print(f"{'':44} shares: {terms}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--seconds", type=float, default=5.0, help="the longest any one stage runs")
    ap.add_argument("--count", type=int, default=20000, help="the most messages any one stage does")
    ap.add_argument("--connections", type=int, default=16, help="keep-alive connections of the HTTP stage")
    ap.add_argument("--db", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"])
    ap.add_argument("--out", type=Path, help="JSON file (default bench/results/limits-<time>.json)")
    args = ap.parse_args(argv)
    interruptible()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    load_start = load_average()
    print(f"limits: load average at start {load_start}")
    stages = asyncio.run(measure(args))
    load_end = load_average()
    cores = os.cpu_count() or 1
    rows = [s.as_json() for s in stages]
    limits = {db: pipeline.pipeline_limits(rows, db, cores) for db in args.db}
    print()
    for db, lim in limits.items():
        print(f"pipeline limits, {db}:")
        print_limits(lim)
    print(f"load average at start {load_start}, at end {load_end}")
    out: Path = args.out or RESULTS / f"limits-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": machine(),
        "started": stamp,
        "load_average": {"start": load_start, "end": load_end},
        "stages": rows,
        "pipeline": limits,
    }
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
