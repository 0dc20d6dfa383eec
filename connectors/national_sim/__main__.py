"""Run the simulator by hand: `python -m connectors.national_sim serve|push …`.

    python -m connectors.national_sim serve --pki var/pki --port 8090 --record-dir var/sim --petitions 500
    python -m connectors.national_sim push --pki var/pki --gateway http://127.0.0.1:8080 --count 1000
    python -m connectors.national_sim serve --pki var/pki --fault-for-petition P-1=Client.UnknownPetition

`serve` can start in a failure mode (`--down`, `--slow-seconds`, `--fault-next`, `--fault-code`,
`--fault-for-petition PETITION_ID=CODE`), and be switched at run time with `POST /sim/control`.

`--pki` is a directory made by `signing.init_dev_pki` (created if missing): the simulator trusts
`ca.pem`, signs with `national.pem`/`national.key`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import signing
from connectors.national_sim.failure_modes import DEFAULT_FAULT_CODE, SimFaults
from connectors.national_sim.generator import generate_petitions
from connectors.national_sim.push import push
from connectors.national_sim.server import create_sim_app


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    pki = signing.init_dev_pki(Path(args.pki))
    if args.command == "serve":
        import uvicorn

        app = create_sim_app(
            trust=pki.trust_store(),
            signer=signing.load_pem_key(pki.national_cert, pki.national_key),
            record_dir=Path(args.record_dir) if args.record_dir else None,
            faults=_faults(args),
        )
        if args.petitions:
            app.state.recorder.register_petitions(generate_petitions(args.petitions, seed=args.seed))
        uvicorn.run(app, host=args.host, port=args.port, log_level="info")
        return 0
    report = push(args.gateway, pki.directory, args.count, seed=args.seed, concurrency=args.concurrency)
    summary = {
        "sent": report.sent,
        "accepted": report.accepted,
        "duplicates": report.duplicates,
        "faults": report.faults,
        "errors": report.errors,
        "elapsed_seconds": round(report.elapsed, 3),
        "per_second": round(report.per_second, 1),
    }
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0 if report.accepted + report.duplicates == report.sent else 1


def _faults(args: argparse.Namespace) -> SimFaults:
    petitions: dict[str, str] = {}
    for item in args.fault_for_petition:
        petition_id, sep, code = item.rpartition("=")
        if not sep or not petition_id:
            raise SystemExit(f"--fault-for-petition {item!r}: use PETITION_ID=CODE")
        petitions[petition_id] = code
    try:
        return SimFaults(
            down=args.down,
            slow_seconds=args.slow_seconds,
            slow_commits=args.slow_commits,
            fault_next=args.fault_next,
            fault_code=args.fault_code,
            fault_for_petition=petitions,
        )
    except ValueError as exc:
        raise SystemExit(str(exc)) from exc


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m connectors.national_sim", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--pki", required=True, help="dev PKI directory (created if missing)")
    parser.add_argument("--seed", type=int, default=None, help="generator seed, for reproducible petitions")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve NationalExchange at /soap/national")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8090)
    serve.add_argument("--record-dir", help="write received.jsonl here")
    serve.add_argument("--petitions", type=int, default=0, help="generated petitions ListPetitions returns")
    modes = serve.add_argument_group("failure modes (change them at run time with POST /sim/control)")
    modes.add_argument("--down", action="store_true", help="answer every SOAP call with HTTP 503")
    modes.add_argument("--slow-seconds", type=float, default=0.0, help="hold every SOAP call back this long")
    modes.add_argument(
        "--slow-commits", action="store_true", help="process slow calls even when the client has given up"
    )
    modes.add_argument("--fault-next", type=int, default=0, help="the next N calls get a SOAP Fault")
    modes.add_argument("--fault-code", default=DEFAULT_FAULT_CODE, help="the Fault --fault-next sends")
    modes.add_argument(
        "--fault-for-petition",
        action="append",
        default=[],
        metavar="PETITION_ID=CODE",
        help="every call about that petition gets that Fault (repeatable)",
    )
    send = commands.add_parser("push", help="submit generated petitions to a gateway")
    send.add_argument("--gateway", required=True, help="gateway base URL or its ?wsdl URL")
    send.add_argument("--count", type=int, default=100)
    send.add_argument("--concurrency", type=int, default=4)
    return parser


if __name__ == "__main__":
    sys.exit(main())
