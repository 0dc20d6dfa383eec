"""The metrics: callbacks count into a registry of each app's own; the sampler sets the gauges and
survives a failing part; the exposition parses with prometheus_client's own text parser."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families

from connectors.amqp.queue_stats import QueueStat
from connectors.db.metrics_figures import StoreFigures
from gateway.observability.metrics import GatewayMetrics
from gateway.observability.sampler import MetricsSampler, topology_queues

NOW = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(metrics: GatewayMetrics) -> Samples:
    """Every sample of the exposition, by (name, sorted labels)."""
    text = metrics.render().decode("utf-8")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def test_each_callback_counts_under_its_labels_and_two_apps_do_not_share_a_registry() -> None:
    one, other = GatewayMetrics(), GatewayMetrics()
    one.national_logged("in", "SubmitPetition", "received")  # the request's own entry: not counted
    one.national_logged("out", "SubmitPetition", "accepted")
    one.national_logged("out", "SubmitPetition", "accepted")
    one.national_logged("out", "unknown", "Client.SchemaInvalid")
    one.national_attempt("ReceiveStatus", "accepted", 0.2)
    one.national_attempt("ReceiveStatus", "Network.Timeout", 31.0)
    one.unit_reply("claim", "applied")
    one.case_message("pakn.case.new", "confirmed")
    one.signed_xml(0.004)
    one.signed_pdf(0.3)
    got = scrape(one)
    national_in = "pakn_messages_in_total"
    assert value(got, national_in, peer="national", type="SubmitPetition", result="accepted") == 2
    assert value(got, national_in, peer="national", type="SubmitPetition", result="received") is None
    assert value(got, national_in, peer="national", type="unknown", result="Client.SchemaInvalid") == 1
    out = "pakn_messages_out_total"
    assert value(got, out, peer="national", type="ReceiveStatus", result="accepted") == 1
    assert value(got, out, peer="national", type="ReceiveStatus", result="Network.Timeout") == 1
    assert value(got, "pakn_portal_call_seconds_count", operation="ReceiveStatus") == 2
    assert value(got, "pakn_portal_call_seconds_bucket", operation="ReceiveStatus", le="0.25") == 1
    assert value(got, "pakn_portal_call_seconds_bucket", operation="ReceiveStatus", le="+Inf") == 2
    assert value(got, "pakn_messages_in_total", peer="unit", type="claim", result="applied") == 1
    assert value(got, "pakn_messages_out_total", peer="unit", type="pakn.case.new", result="confirmed") == 1
    assert value(got, "pakn_signing_seconds_count", kind="xml") == 1
    assert value(got, "pakn_signing_seconds_count", kind="pdf") == 1
    assert not any(name == "pakn_messages_in_total" for name, _ in scrape(other))  # nothing leaked


def test_watched_values_are_read_at_each_scrape() -> None:
    metrics = GatewayMetrics()
    connected, breaker = [False], ["closed"]
    metrics.watch(
        broker_connected=lambda: connected[0],
        breaker_state=lambda: breaker[0],
        relay_leading=lambda: True,
        certificate_expires=NOW + timedelta(days=100),
    )
    first = scrape(metrics)
    assert value(first, "pakn_broker_connected") == 0
    assert value(first, "pakn_portal_breaker_state", pakn_portal_breaker_state="closed") == 1
    connected[0], breaker[0] = True, "open"
    second = scrape(metrics)
    assert value(second, "pakn_broker_connected") == 1
    assert value(second, "pakn_portal_breaker_state", pakn_portal_breaker_state="open") == 1
    assert value(second, "pakn_portal_breaker_state", pakn_portal_breaker_state="closed") == 0
    expiry = (NOW + timedelta(days=100)).timestamp()
    assert value(second, "pakn_signing_certificate_expiry_timestamp_seconds") == expiry


class Queues:
    def __init__(self) -> None:
        self.depths: dict[str, QueueStat | None] = {}
        self.fail = False
        self.closed = False

    async def read(self, names: Sequence[str]) -> dict[str, QueueStat | None]:
        if self.fail:
            raise ConnectionError("broker down")
        return {name: self.depths.get(name) for name in names}

    async def close(self) -> None:
        self.closed = True


def figures(**changes: object) -> StoreFigures:
    base: dict[str, object] = {
        "outbox_pending": 2,
        "outbox_oldest": NOW - timedelta(seconds=40),
        "national": {"pending": 1, "dead": 3},
        "national_oldest": NOW - timedelta(seconds=5),
        "cases": {"04": 7, "06": 1},
        "overdue": 2,
        "with_due": 5,
    }
    return StoreFigures(**(base | changes))  # type: ignore[arg-type]


async def test_the_sampler_sets_the_gauges_and_one_failing_part_does_not_stop_the_other() -> None:
    metrics, queues = GatewayMetrics(), Queues()
    names = topology_queues(["CVL"], [10.0])
    assert names == [
        "pakn.gateway.replies",
        "pakn.dead",
        "pakn.retry.replies.10s",
        "pakn.unit.CVL",
        "pakn.unit.CVL.errors",
    ]
    queues.depths = {
        "pakn.unit.CVL": QueueStat("pakn.unit.CVL", 4, 1),
        "pakn.dead": QueueStat("pakn.dead", 6, 0),
    }
    store: list[StoreFigures | Exception] = [figures()]

    async def read_store(now: datetime) -> StoreFigures:
        item = store[0]
        if isinstance(item, Exception):
            raise item
        return item

    sampler = MetricsSampler(
        metrics, read_store=read_store, queues=queues, queue_names=names, interval=60, clock=lambda: NOW
    )
    await sampler.sample_once()
    got = scrape(metrics)
    assert value(got, "pakn_queue_messages", queue="pakn.unit.CVL") == 4
    assert value(got, "pakn_queue_consumers", queue="pakn.unit.CVL") == 1
    assert value(got, "pakn_queue_messages", queue="pakn.unit.CVL.errors") is None  # not declared
    assert value(got, "pakn_dead_letters", source="amqp") == 6
    assert value(got, "pakn_dead_letters", source="national") == 3
    assert value(got, "pakn_outbox_pending") == 2 and value(got, "pakn_outbox_lag_seconds") == 40
    assert value(got, "pakn_national_outbox_messages", state="delivered") == 0
    assert value(got, "pakn_national_outbox_lag_seconds") == 5
    assert value(got, "pakn_cases", status="04") == 7 and value(got, "pakn_cases", status="08") == 0
    assert value(got, "pakn_cases_overdue") == 2 and value(got, "pakn_cases_open_with_due_date") == 5

    store[0] = OSError("database is locked")
    queues.depths["pakn.unit.CVL"] = QueueStat("pakn.unit.CVL", 0, 1)
    del queues.depths["pakn.dead"]  # gone: its series goes too
    await sampler.sample_once()
    got = scrape(metrics)
    assert value(got, "pakn_metrics_sample_errors_total", part="store") == 1
    assert value(got, "pakn_outbox_pending") == 2  # the last good value is kept
    assert value(got, "pakn_queue_messages", queue="pakn.unit.CVL") == 0  # the broker part went on
    assert value(got, "pakn_queue_messages", queue="pakn.dead") is None

    queues.fail, store[0] = True, figures(outbox_pending=0, outbox_oldest=None)
    await sampler.sample_once()
    got = scrape(metrics)
    assert value(got, "pakn_metrics_sample_errors_total", part="queues") == 1
    assert value(got, "pakn_outbox_pending") == 0 and value(got, "pakn_outbox_lag_seconds") == 0


async def test_the_sampler_runs_until_stopped_and_closes_its_broker_reader() -> None:
    metrics, queues = GatewayMetrics(), Queues()
    rounds = 0
    three = asyncio.Event()

    async def read_store(now: datetime) -> StoreFigures:
        nonlocal rounds
        rounds += 1
        if rounds == 3:
            three.set()
        return figures()

    sampler = MetricsSampler(
        metrics, read_store=read_store, queues=queues, queue_names=[], interval=0.01, clock=lambda: NOW
    )
    stop = asyncio.Event()
    task = asyncio.create_task(sampler.run(stop))
    async with asyncio.timeout(5):
        await three.wait()  # it goes round by itself, every `interval`
        stop.set()
        await task
    assert queues.closed
