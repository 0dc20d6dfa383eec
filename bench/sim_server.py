"""The national portal simulator in a process of its own, for the benchmarks.

    .venv/bin/python bench/sim_server.py --pki DIR --port 8090 [--down]

Its own process so that the signatures it verifies and makes (three statuses per petition) do not
share the load generator's interpreter lock. Served like the gateway (uvloop, httptools, no access
log). `GET /bench/arrivals?since=N` gives the records from the N-th on, without their raw bytes
(operation, ids, status, verdict, outcome, time), so a benchmark can follow what the portal holds
without fetching every message; `/sim/control` switches the failure modes as usual.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

import signing
from connectors.national_sim.failure_modes import SimFaults
from connectors.national_sim.recorder import SimRecorder
from connectors.national_sim.server import create_sim_app


def bench_app(pki_dir: Path, *, down: bool) -> FastAPI:
    pki = signing.init_dev_pki(pki_dir)
    app = create_sim_app(
        trust=pki.trust_store(),
        signer=signing.load_pem_key(pki.national_cert, pki.national_key),
        faults=SimFaults(down=down),
    )
    recorder: SimRecorder = app.state.recorder

    @app.get("/bench/arrivals", tags=["bench"])
    async def arrivals(since: int = 0) -> dict[str, Any]:
        received = recorder.received
        rows = [
            [r.operation, r.petition_id, r.seq, r.status_code, r.verdict, r.outcome, r.at.timestamp()]
            for r in received[since:]
        ]
        answers = recorder.answers()
        return {
            "next": len(received),
            "rows": rows,
            "answers_ok": sum(1 for a in answers if a.sha256_ok and a.verdict == "valid"),
            "order_violations": len(recorder.order_violations),
            "answers_before_assignment": len(recorder.answers_before_assignment),
        }

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--pki", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--down", action="store_true", help="start answering 503 (switch with /sim/control)")
    args = parser.parse_args()
    uvicorn.run(
        bench_app(args.pki, down=args.down),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
