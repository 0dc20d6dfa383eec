"""CPU time of the processes a benchmark stage makes work: this process, a helper it started, the
RabbitMQ broker and PostgreSQL (the postmaster and every backend), read from /proc.

A stage's cost per message is the CPU seconds all of them spent, divided by the messages: on a
2-core machine that is what decides how many messages the whole pipeline can take, wherever the
work happens. Other processes' load (other people's tests on the same broker) adds to the broker's
and PostgreSQL's figures, so measured runs need a quiet machine (`uptime`).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PID = re.compile(r"pid=(\d+)")


def cpu_seconds(pid: int) -> float | None:
    """user + system CPU seconds of one process so far; None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def listening_pid(port: int) -> int | None:
    """The pid that listens on 127.0.0.1:`port` (the broker on 5672, PostgreSQL on 5432)."""
    try:
        out = subprocess.run(
            ["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _PID.search(out)
    return int(match.group(1)) if match else None


def children(parent: int) -> list[int]:
    """Direct children of `parent` (PostgreSQL's backends are children of the postmaster)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == parent:
            found.append(int(entry.name))
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return ""


@dataclass
class Group:
    """A named set of processes whose CPU is summed, found again at every reading (new backends).

    `database`: of the root's children, only PostgreSQL's own processes (checkpointer, WAL writer…)
    and the backends connected to that database count, not other people's."""

    name: str
    root: int | None
    with_children: bool = False
    database: str | None = None
    _start: dict[int, float] = field(default_factory=dict)

    def pids(self) -> list[int]:
        if self.root is None:
            return []
        if not self.with_children:
            return [self.root]
        members = children(self.root)
        if self.database is not None:
            members = [pid for pid in members if _ours(cmdline(pid), self.database)]
        return [self.root, *members]

    def begin(self) -> None:
        self._start = {pid: c for pid in self.pids() if (c := cpu_seconds(pid)) is not None}

    def spent(self) -> float:
        """CPU seconds since `begin`; a member born since then counts from zero (ended ones are lost:
        keep connections open for the whole stage)."""
        total = 0.0
        for pid in self.pids():
            now = cpu_seconds(pid)
            if now is not None:
                total += now - self._start.get(pid, 0.0)
        return total


class CpuMeter:
    """Wall time and CPU seconds per group over one measured block (`with meter: …`)."""

    def __init__(self, groups: Iterable[Group]) -> None:
        self.groups = list(groups)
        self.wall = 0.0
        self.cpu: dict[str, float] = {}
        self._t0 = 0.0

    def __enter__(self) -> CpuMeter:
        for group in self.groups:
            group.begin()
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.wall = time.perf_counter() - self._t0
        self.cpu = {group.name: round(group.spent(), 4) for group in self.groups}

    @property
    def total(self) -> float:
        return sum(self.cpu.values())


def broker_group() -> Group:
    return Group("broker", listening_pid(5672))


def postgres_group(database: str) -> Group:
    """PostgreSQL's CPU for one database: its backends and the server's own background processes."""
    return Group("postgres", listening_pid(5432), with_children=True, database=database)


def _ours(command: str, database: str) -> bool:
    if "(" not in command and "[local]" not in command:
        return True  # an auxiliary process: checkpointer, background writer, WAL writer, launchers
    return f" {database} " in command


def self_group() -> Group:
    return Group("bench", os.getpid())
