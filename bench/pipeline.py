"""The pipeline limits computed from the raw stage costs: pure arithmetic over limits.py's JSON.

An inbound petition passes, in the gateway as built (gateway/inbound/, connectors/amqp/outbox_relay.py):
one HTTP POST; parse + XSD of the request; one XML-DSig verify; one XML-DSig sign (the receipt);
three single-row commits (message log in, the intake's transaction, message log out); its share of
the relay's batched confirm commit; one pipelined publish with confirm. Each accepted petition also
sends three statuses to the portal (01, 03, 04): per status one XML-DSig sign, one HTTP POST, one
verify of the portal's signed receipt and three single-row commits (the outcome, and the message log
of the request and of the receipt) in the gateway, and at the portal — the simulator, on the same
two cores — one verify of the status and one sign of its receipt. (Until the eighth round the
inbound sum left the portal's two out, though the outbound one counted them: the seventh round's
limit with the statuses was 48.0/s where this sum gives 37.9/s.)

The stage costs are CPU per message where the work happens (this process, the no-op server, the
broker, PostgreSQL). limit = cores / Σ count × cost. The single-row commit stands for commits that
write several rows, so the costs are low estimates and the limits generous. `one process` is the
bound of the gateway's own interpreter, on one core (a single Python process does its Python work
on one core at a time): the same sum with only the gateway's part of each stage — not the broker's
or PostgreSQL's CPU, not the portal's signature work, and of an HTTP POST the server's side for a
request the gateway takes and the client's side for a call it makes.
"""

from __future__ import annotations

from typing import Any

# (stage key, how many per petition); the stages are STAGE_OF below, the commits by database
INTAKE: tuple[tuple[str, float], ...] = (
    ("http", 1),
    ("xsd", 1),
    ("verify", 1),
    ("sign", 1),
    ("commit1", 3),
    ("commit100", 1),
    ("publish", 1),
)
STATUSES_PER_PETITION = 3  # 01, 03, 04
STATUSES: tuple[tuple[str, float], ...] = (
    ("sign", 3),
    ("http_out", 3),
    ("verify", 3),
    ("commit1", 9),
    ("portal_verify", 3),
    ("portal_sign", 3),
)
# One signed status out of a unit's reply (bench/outbound.py), everything that must happen on this
# machine: the reply consumed and acked; its transaction (one reply, one commit: it is acked only
# once applied); the status signed and posted; the portal — the simulator, on the same two cores —
# verifies it and signs its receipt; the gateway verifies the receipt; the outcome and the two log
# entries in group commits. `_batched_replies` is the same with the reply's commit batched too.
OUTBOUND_STATUS: tuple[tuple[str, float], ...] = (
    ("consume", 1),
    ("commit1", 1),
    ("sign", 1),
    ("http_out", 1),
    ("verify", 1),
    ("portal_verify", 1),
    ("portal_sign", 1),
    ("commit100", 3),
)
OUTBOUND_STATUS_BATCHED_REPLIES: tuple[tuple[str, float], ...] = (
    ("consume", 1),
    ("sign", 1),
    ("http_out", 1),
    ("verify", 1),
    ("portal_verify", 1),
    ("portal_sign", 1),
    ("commit100", 4),
)

STAGE_OF = {
    "http": ("HTTP POST (uvicorn+uvloop+httptools, FastAPI)", "no-op route, body read"),
    "xsd": ("lxml", "parse + XSD validate"),
    "verify": ("XML-DSig (signxml)", "verify (trust store, chain check)"),
    "sign": ("XML-DSig (signxml)", "sign, key object loaded once"),
    "publish": ("aio-pika publish + confirm", "pipelined, window 100"),
    "consume": ("aio-pika consume + ack", "prefetch 50"),
}
# The SOAP client's own cost per portal call (zeep building the envelope, requests, zeep reading
# the Receipt) beyond what "http" already counts: the caller's CPU in the zeep stage less the raw
# HTTP client's in the "http" stage (the no-op server's part is the portal's, in "http" too).
# DESIGN §6 names zeep for these calls; the `_with_zeep` limits add it to each status.
CLIENT_SIDE = {"zeep": ("zeep client call (requests)", "ReceiveStatus, unsigned, fixed Receipt")}
ZEEP_PER_STATUS: tuple[tuple[str, float], ...] = (("zeep", 1),)

# A status costs the same signature work (and the same POST) wherever it comes from: the inbound
# sum once left the portal's verify and sign out, and nothing noticed for seven rounds.
_PER_STATUS = ("sign", "verify", "portal_verify", "portal_sign", "http_out")


def _per_status(parts: tuple[tuple[str, float], ...], statuses: int) -> dict[str, float]:
    counts = dict.fromkeys(_PER_STATUS, 0.0)
    for key, n in parts:
        if key in counts:
            counts[key] += n / statuses
    return counts


if not (
    _per_status(STATUSES, STATUSES_PER_PETITION)
    == _per_status(OUTBOUND_STATUS, 1)
    == _per_status(OUTBOUND_STATUS_BATCHED_REPLIES, 1)
):
    raise AssertionError("the inbound and outbound sums count different work for one status")
# Where each CPU group of a stage is spent here, named as bench/load.py's meter names the processes
# ("gateway", "postgres", "broker", "portal_sim", "bench" the load generator). A stage the gateway
# does itself: the caller's and any server's CPU are the gateway's.
IN_GATEWAY = {"bench": "gateway", "server": "gateway", "postgres": "postgres", "broker": "broker"}
# The same stage measured once, but done here by someone else or by both sides of one HTTP POST:
# key → (the stage, its CPU groups → process). The no-op server's "server" group is whoever takes
# the request, the caller's "bench" group whoever makes it.
ELSEWHERE = {
    "http": ("http", {"server": "gateway", "bench": "bench"}),  # the intake: the load generator calls
    "http_out": ("http", {"bench": "gateway", "server": "portal_sim"}),  # a status: the gateway calls
    "portal_verify": ("verify", {"bench": "portal_sim"}),  # the portal's, in its own process
    "portal_sign": ("sign", {"bench": "portal_sim"}),
}
GATEWAY = "gateway"


def _commit_stage(db: str, rows: int) -> tuple[str, str]:
    name = "SQLite (WAL, synchronous=FULL)" if db == "sqlite" else "PostgreSQL (asyncpg, sync commit)"
    return name, f"{rows} row(s) per commit"


def _find(stages: list[dict[str, Any]], name: str, case: str) -> dict[str, Any]:
    for stage in stages:
        if stage["stage"] == name and stage["case"] == case:
            return stage
    raise KeyError(f"limits JSON has no stage {name!r} / {case!r}")


def _stage_groups(stages: list[dict[str, Any]], db: str) -> dict[str, dict[str, float]]:
    """stage key → CPU group ("bench", "server", "broker", "postgres") → ms of CPU per message."""
    wanted = dict(STAGE_OF) | {"commit1": _commit_stage(db, 1), "commit100": _commit_stage(db, 100)}
    groups: dict[str, dict[str, float]] = {}
    for key, (name, case) in wanted.items():
        stage = _find(stages, name, case)
        count = max(int(stage["count"]), 1)
        groups[key] = {group: 1000 * cpu / count for group, cpu in stage["cpu"].items()}
    return groups


def _spent(groups: dict[str, float], where: dict[str, str]) -> dict[str, float]:
    spent: dict[str, float] = {}
    for group, ms in groups.items():
        process = where.get(group, group)
        spent[process] = spent.get(process, 0.0) + ms
    return spent


def process_costs(stages: list[dict[str, Any]], db: str) -> dict[str, dict[str, float]]:
    """key → process → ms of CPU per message, for every key the sums above use."""
    groups = _stage_groups(stages, db)
    out = {key: _spent(ms, IN_GATEWAY) for key, ms in groups.items()}
    for key, (of, where) in ELSEWHERE.items():
        out[key] = _spent(groups[of], where)
    for key, (name, case) in CLIENT_SIDE.items():
        try:
            stage = _find(stages, name, case)
        except KeyError:  # a limits JSON from before the stage existed
            continue
        http = _find(stages, *STAGE_OF["http"])
        raw_client = 1000 * http["cpu"].get("bench", 0.0) / max(int(http["count"]), 1)
        client = 1000 * stage["cpu"].get("bench", 0.0) / max(int(stage["count"]), 1) - raw_client
        out[key] = {GATEWAY: client}
    return out


def stage_costs(stages: list[dict[str, Any]], db: str) -> dict[str, dict[str, float]]:
    """key → {"all": ms of CPU per message, "own": ms of it in the gateway's process}."""
    return {
        key: {"all": sum(spent.values()), "own": spent.get(GATEWAY, 0.0)}
        for key, spent in process_costs(stages, db).items()
    }


def limit(
    costs: dict[str, dict[str, float]], parts: tuple[tuple[str, float], ...], cores: int
) -> dict[str, Any]:
    total = sum(n * costs[key]["all"] for key, n in parts)
    own = sum(n * costs[key]["own"] for key, n in parts)
    return {
        "cpu_ms_per_petition": round(total, 3),
        "own_cpu_ms_per_petition": round(own, 3),
        "limit_per_second": round(cores * 1000 / total, 1) if total else None,
        "one_process_limit_per_second": round(1000 / own, 1) if own else None,
        "terms": [
            {
                "stage": key,
                "per_petition": n,
                "cpu_ms": round(costs[key]["all"], 4),
                "share": round(n * costs[key]["all"] / total, 3) if total else None,
            }
            for key, n in parts
        ],
    }


def pipeline_limits(stages: list[dict[str, Any]], db: str, cores: int) -> dict[str, Any]:
    costs = stage_costs(stages, db)
    limits: dict[str, Any] = {
        "db": db,
        "cores": cores,
        "intake_to_unit_queue": limit(costs, INTAKE, cores),
        "with_statuses_to_portal": limit(costs, INTAKE + STATUSES, cores),
        "outbound_status": limit(costs, OUTBOUND_STATUS, cores),
        "outbound_status_batched_replies": limit(costs, OUTBOUND_STATUS_BATCHED_REPLIES, cores),
    }
    if "zeep" in costs:
        limits |= {
            "with_statuses_to_portal_with_zeep": limit(costs, INTAKE + STATUSES + (("zeep", 3),), cores),
            "outbound_status_with_zeep": limit(costs, OUTBOUND_STATUS + ZEEP_PER_STATUS, cores),
            "outbound_status_batched_replies_with_zeep": limit(
                costs, OUTBOUND_STATUS_BATCHED_REPLIES + ZEEP_PER_STATUS, cores
            ),
        }
    return limits
