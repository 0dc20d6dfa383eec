"""py-spy on the gateway process while a phase runs, and where its samples went.

The record is py-spy's raw (collapsed) format, one stack per line with its sample count, which
`summarise` turns into the share of samples inside each function (inclusive) and at its top (self).
    .venv/bin/python bench/profiler.py bench/results/profile-….txt     # prints the summary
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

PY_SPY = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")


def start(
    pid: int,
    out: Path,
    seconds: float,
    *,
    gil: bool = False,
    subprocesses: bool = False,
    native: bool = False,
) -> subprocess.Popen[bytes]:
    """Sample `pid` at 100 Hz for at most `seconds` without pausing it (--nonblocking);
    `subprocesses`: its children too (the workers of PAKN_WORKERS > 1: the parent only supervises);
    `native`: C frames too (the system calls under asyncpg, uvloop, lxml), which needs py-spy to
    pause the process at each sample: it slows the gateway, so read shares, not rates."""
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [
        PY_SPY,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(max(1, int(seconds))),
        "--rate",
        "100",
        "--format",
        "raw",
        "--nolineno",
        *(["--native"] if native else ["--nonblocking"]),
        "--output",
        str(out),
    ]
    return subprocess.Popen(
        [*command, *(["--gil"] if gil else []), *(["--subprocesses"] if subprocesses else [])],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def finish(process: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    try:
        _, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.terminate()
        _, err = process.communicate(timeout=30)
    if process.returncode not in (0, None):
        print(f"py-spy: exit {process.returncode}: {err.decode(errors='replace')[-500:]}")


def _stacks(path: Path) -> Iterator[tuple[list[str], int]]:
    """(frames outermost first, samples) per line of a raw record; a `.gz` record (as kept in
    bench/results/) is read as it is."""
    data = gzip.decompress(path.read_bytes()).decode(errors="replace") if path.suffix == ".gz" else None
    text = data if data is not None else path.read_text(errors="replace")
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if stack and count_text.isdigit():
            yield stack.split(";"), int(count_text)


def summarise(path: Path, top: int = 40) -> tuple[int, list[tuple[str, float, float]]]:
    """(samples, [(function, inclusive share, self share)]) sorted by inclusive share."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for frames, count in _stacks(path):
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    rows = [(f, inclusive[f] / total, own[f] / total) for f, _ in inclusive.most_common(top)] if total else []
    return total, rows


# (category, frames any of which puts a stack in it), tried in order; the first that matches wins
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("message log (hash-chained appends)", ("MessageLogHook.record", "LogGroupCommit.", "NationalWireLog.")),
    (
        "inbound: XML-DSig verify of the request",
        ("verify_xml (signing/xml_dsig.py)|MinistryEndpoint._check",),
    ),
    ("inbound: parse, XSD, decode", ("MinistryEndpoint._check",)),
    ("inbound: XML-DSig sign of the receipt", ("MinistryEndpoint._sign",)),
    ("inbound: intake transaction", ("Intake._once",)),
    ("relay: confirm → 04 (store)", ("StoreOutboxSource.",)),
    ("relay: publish + confirms (AMQP)", ("OutboxRelay.",)),
    ("national: XML-DSig sign of the status", ("sign_xml (signing/xml_dsig.py)|ZeepNationalClient",)),
    ("national: verify of the portal's receipt", ("verify_xml (signing/xml_dsig.py)|ZeepNationalClient",)),
    ("national: SOAP client (zeep, requests, HTTP)", ("ZeepNationalClient.", "client_pool.py")),
    ("national: store (claim, outcome)", ("NationalSender.",)),
    ("reply consumer and service", ("ReplyConsumer", "Replies.", "ReplyIntake")),
    ("answer letters (render, PAdES)", ("SignedLetters", "render_letter", "sign_pdf")),
    (
        "samplers (metrics, console, health)",
        ("MetricsSampler", "console", "observability", "ready (gateway/app.py)"),
    ),
    ("HTTP server and framework", ("httptools_impl", "starlette", "fastapi")),
    ("AMQP library (aiormq, pamqp)", ("aiormq", "pamqp", "aio_pika")),
    # SQLAlchemy's async layer runs each statement in a greenlet whose stack starts at the session:
    # who issued it is not in the sample
    ("store: SQLAlchemy + asyncpg (caller not in the stack)", ("sqlalchemy/", "asyncpg/")),
)


def _matches(frames: list[str], marker: str) -> bool:
    """`a|b`: a frame containing a, below (called from) a frame containing b."""
    inner, _, outer = marker.partition("|")
    if not outer:
        return any(marker in f for f in frames)
    outer_at = next((i for i, f in enumerate(frames) if outer in f), None)
    return outer_at is not None and any(inner in f for f in frames[outer_at:])


def categories(path: Path) -> tuple[int, list[tuple[str, float]]]:
    """(samples, [(category, share)]) by `CATEGORIES`; what matches none is "event loop, other"."""
    counts: Counter[str] = Counter()
    total = 0
    for frames, count in _stacks(path):
        total += count
        name = next((c for c, markers in CATEGORIES if any(_matches(frames, m) for m in markers)), None)
        counts[name or "event loop, other"] += count
    return total, [(name, n / total) for name, n in counts.most_common()] if total else []


def system_calls(path: Path, top: int = 12) -> tuple[int, list[tuple[str, float, list[tuple[str, float]]]]]:
    """In a `native` record: (samples, [(C library function at the leaf, share, [(the nearest
    Python caller, share)])]) — where the gateway sits in system calls holding the GIL."""
    leaves: Counter[str] = Counter()
    callers: dict[str, Counter[str]] = {}
    total = 0
    for frames, count in _stacks(path):
        total += count
        if "(libc" not in frames[-1]:
            continue
        leaf = frames[-1].split(" (")[0]
        leaves[leaf] += count
        python = [f.split(" (")[0] for f in frames if ".py)" in f]
        callers.setdefault(leaf, Counter())[python[-1] if python else "(no Python frame)"] += count
    rows = [
        (leaf, n / total, [(c, m / total) for c, m in callers[leaf].most_common(5)])
        for leaf, n in leaves.most_common(top)
    ]
    return total, rows if total else []


def main() -> None:
    parser = argparse.ArgumentParser(description="summarise a py-spy raw record")
    parser.add_argument("record", type=Path)
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument("--grep", help="only functions whose name contains this")
    parser.add_argument("--categories", action="store_true", help="shares by activity of the gateway")
    parser.add_argument(
        "--syscalls", action="store_true", help="C library leaves by Python caller (a --native record)"
    )
    args = parser.parse_args()
    if args.syscalls:
        total, calls = system_calls(args.record)
        print(f"{total} samples")
        for leaf, share, by in calls:
            print(f"{100 * share:6.1f}%  {leaf}")
            for caller, part in by:
                print(f"          {100 * part:6.1f}%  {caller}")
        return
    if args.categories:
        total, shares = categories(args.record)
        print(f"{total} samples")
        for name, share in shares:
            print(f"{100 * share:6.1f}%  {name}")
        return
    total, rows = summarise(args.record, top=100000 if args.grep else args.top)
    print(f"{total} samples")
    shown = [r for r in rows if not args.grep or args.grep in r[0]][: args.top]
    for function, incl, self_share in shown:
        print(f"{100 * incl:6.1f}% incl {100 * self_share:6.1f}% self  {function[:150]}")


if __name__ == "__main__":
    main()
