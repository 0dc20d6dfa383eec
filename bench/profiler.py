"""py-spy on the gateway process while a phase runs, and where its samples went.

The record is py-spy's raw (collapsed) format, one stack per line with its sample count, which
`summarise` turns into the share of samples inside each function (inclusive) and at its top (self).
    .venv/bin/python bench/profiler.py bench/results/profile-….txt     # prints the summary
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

PY_SPY = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")


def start(pid: int, out: Path, seconds: float, *, gil: bool = False) -> subprocess.Popen[bytes]:
    """Sample `pid` at 100 Hz for at most `seconds` without pausing it (--nonblocking)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [PY_SPY, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))), "--rate", "100",
               "--format", "raw", "--nolineno", "--nonblocking", "--output", str(out)]
    return subprocess.Popen([*command, *(["--gil"] if gil else [])],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(process: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    try:
        _, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.terminate()
        _, err = process.communicate(timeout=30)
    if process.returncode not in (0, None):
        print(f"py-spy: exit {process.returncode}: {err.decode(errors='replace')[-500:]}")


def summarise(path: Path, top: int = 40) -> tuple[int, list[tuple[str, float, float]]]:
    """(samples, [(function, inclusive share, self share)]) sorted by inclusive share."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    rows = [(f, inclusive[f] / total, own[f] / total) for f, _ in inclusive.most_common(top)] if total else []
    return total, rows


def main() -> None:
    parser = argparse.ArgumentParser(description="summarise a py-spy raw record")
    parser.add_argument("record", type=Path)
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument("--grep", help="only functions whose name contains this")
    args = parser.parse_args()
    total, rows = summarise(args.record, top=100000 if args.grep else args.top)
    print(f"{total} samples")
    shown = [r for r in rows if not args.grep or args.grep in r[0]][: args.top]
    for function, incl, self_share in shown:
        print(f"{100 * incl:6.1f}% incl {100 * self_share:6.1f}% self  {function[:150]}")


if __name__ == "__main__":
    main()
