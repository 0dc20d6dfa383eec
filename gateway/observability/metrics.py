"""The gateway's Prometheus metrics, in a registry of each app's own (never the process-wide default:
several gateways in one test process would otherwise count into one another).

Counters and histograms move where messages pass; the methods below are the callbacks that
`gateway.bootstrap` hands to those places (connectors get plain callables, never this class).
Gauges that need I/O (queue depths, outbox lag, dead letters, overdue cases) are set by
`sampler.MetricsSampler`; the few that are read from memory (broker link, breaker, relay leader)
are read at each scrape through `watch()`.

Label values are bounded sets: operation names, reply kinds, message types, result codes of the
fault catalogue — never a PetitionId or a MessageId.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from datetime import datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Enum,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

from gateway.domain.case import Status

CONTENT_TYPE = CONTENT_TYPE_LATEST
NATIONAL, UNIT = "national", "unit"
PORTAL_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
SIGNING_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BREAKER_STATES = ("closed", "open", "half_open")
NATIONAL_STATES = ("pending", "delivered", "dead")


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)  # process_* (CPU, memory, open files); Linux only
        r = self.registry
        self.messages_in = Counter(
            "pakn_messages_in", "Messages received, by peer, type and result", ["peer", "type", "result"],
            registry=r,
        )
        self.messages_out = Counter(
            "pakn_messages_out", "Messages sent, by peer, type and result (national: every attempt)",
            ["peer", "type", "result"], registry=r,
        )
        self.portal_seconds = Histogram(
            "pakn_portal_call_seconds", "Duration of one call to the national portal, by operation",
            ["operation"], buckets=PORTAL_BUCKETS, registry=r,
        )
        self.signing_seconds = Histogram(
            "pakn_signing_seconds", "Duration of one signature (xml: XML-DSig, pdf: PAdES)", ["kind"],
            buckets=SIGNING_BUCKETS, registry=r,
        )
        self.queue_messages = Gauge(
            "pakn_queue_messages", "Messages ready in a RabbitMQ queue (sampled)", ["queue"], registry=r
        )
        self.queue_consumers = Gauge(
            "pakn_queue_consumers", "Consumers of a RabbitMQ queue (sampled)", ["queue"], registry=r
        )
        self.outbox_pending = Gauge(
            "pakn_outbox_pending", "Outbox rows not yet confirmed by RabbitMQ (sampled)", registry=r
        )
        self.outbox_lag = Gauge(
            "pakn_outbox_lag_seconds", "Age of the oldest unconfirmed outbox row; 0 when none (sampled)",
            registry=r,
        )
        self.national_outbox = Gauge(
            "pakn_national_outbox_messages", "National outbox rows by state (sampled)", ["state"],
            registry=r,
        )
        self.national_lag = Gauge(
            "pakn_national_outbox_lag_seconds",
            "Age of the oldest message pending for the national portal; 0 when none (sampled)", registry=r,
        )
        self.dead_letters = Gauge(
            "pakn_dead_letters", "Dead letters waiting for an operator, by source (sampled)", ["source"],
            registry=r,
        )
        self.cases = Gauge("pakn_cases", "Cases by status code (sampled)", ["status"], registry=r)
        self.cases_overdue = Gauge(
            "pakn_cases_overdue",
            "Open cases past their deadline (portal DueAt or working days) (sampled)",
            registry=r,
        )
        self.cases_with_due = Gauge(
            "pakn_cases_open_with_due_date", "Open cases that have a deadline at all (sampled)", registry=r
        )
        self.sample_errors = Counter(
            "pakn_metrics_sample_errors", "Failed samples of the gauges that need I/O", ["part"], registry=r
        )
        self.sampled_at = Gauge(
            "pakn_metrics_sampled_timestamp_seconds", "When each part was last sampled successfully",
            ["part"], registry=r,
        )
        self.broker_connected = Gauge(
            "pakn_broker_connected", "1 when the RabbitMQ link is up and the topology declared", registry=r
        )
        self.breaker = Enum(
            "pakn_portal_breaker_state", "The national portal's circuit breaker", states=list(BREAKER_STATES),
            registry=r,
        )
        self.relay_leading = Gauge(
            "pakn_outbox_relay_leading", "1 when this instance relays the outbox", registry=r
        )
        self.certificate_expiry = Gauge(
            "pakn_signing_certificate_expiry_timestamp_seconds", "When the signing certificate expires",
            registry=r,
        )
        self._at_scrape: list[Callable[[], None]] = []

    # ------------------------------------------------------------------ where messages pass

    def national_logged(self, direction: str, operation: str, outcome: str | None) -> None:
        """The SOAP edge's message-log hook: it logs one "out" entry per inbound request — the
        answer, with the request's final outcome — so those are what is counted."""
        if direction == "out":
            self.messages_in.labels(NATIONAL, operation, outcome or "unknown").inc()

    def national_attempt(self, operation: str, outcome: str, seconds: float) -> None:
        """One call to the portal (a quick retry is another call), its outcome and duration."""
        self.messages_out.labels(NATIONAL, operation, outcome).inc()
        self.portal_seconds.labels(operation).observe(seconds)

    def unit_reply(self, kind: str, result: str) -> None:
        """A unit's reply (AMQP or REST): applied, duplicate, a refusal code, or retry."""
        self.messages_in.labels(UNIT, kind, result).inc()

    def case_message(self, type_: str, result: str) -> None:
        """A case message to a unit's queue: confirmed by the broker, or failed (to be relayed again)."""
        self.messages_out.labels(UNIT, type_, result).inc()

    def signed_xml(self, seconds: float) -> None:
        self.signing_seconds.labels("xml").observe(seconds)

    def signed_pdf(self, seconds: float) -> None:
        self.signing_seconds.labels("pdf").observe(seconds)

    # ------------------------------------------------------------------ sampled gauges

    def record_store(
        self,
        *,
        now: datetime,
        outbox_pending: int,
        outbox_oldest: datetime | None,
        national: Mapping[str, int],
        national_oldest: datetime | None,
        cases: Mapping[str, int],
        overdue: int,
        with_due: int,
    ) -> None:
        self.outbox_pending.set(outbox_pending)
        self.outbox_lag.set(_age(now, outbox_oldest))
        for state in (*NATIONAL_STATES, *(s for s in national if s not in NATIONAL_STATES)):
            self.national_outbox.labels(state).set(national.get(state, 0))
        self.national_lag.set(_age(now, national_oldest))
        self.dead_letters.labels(NATIONAL).set(national.get("dead", 0))
        known = [s.value for s in Status]
        for status in (*known, *(s for s in cases if s not in known)):
            self.cases.labels(status).set(cases.get(status, 0))
        self.cases_overdue.set(overdue)
        self.cases_with_due.set(with_due)
        self.sampled_at.labels("store").set(now.timestamp())

    def record_queues(
        self, now: datetime, depths: Mapping[str, tuple[int, int] | None], dead_queue: str
    ) -> None:
        """(messages, consumers) per queue; None: the queue does not exist (its series are dropped)."""
        for name, stats in depths.items():
            if stats is None:
                for gauge in (self.queue_messages, self.queue_consumers):
                    _forget(gauge, name)
                continue
            messages, consumers = stats
            self.queue_messages.labels(name).set(messages)
            self.queue_consumers.labels(name).set(consumers)
        dead = depths.get(dead_queue)
        if dead is not None:
            self.dead_letters.labels("amqp").set(dead[0])
        self.sampled_at.labels("queues").set(now.timestamp())

    def sample_failed(self, part: str) -> None:
        self.sample_errors.labels(part).inc()

    # ------------------------------------------------------------------ read at each scrape

    def watch(
        self,
        *,
        broker_connected: Callable[[], bool],
        breaker_state: Callable[[], str],
        relay_leading: Callable[[], bool],
        certificate_expires: datetime,
    ) -> None:
        self.certificate_expiry.set(certificate_expires.timestamp())

        def refresh() -> None:
            self.broker_connected.set(1 if broker_connected() else 0)
            self.breaker.state(breaker_state())
            self.relay_leading.set(1 if relay_leading() else 0)

        self._at_scrape.append(refresh)

    def render(self) -> bytes:
        """The text exposition format (``CONTENT_TYPE``)."""
        for refresh in self._at_scrape:
            refresh()
        return generate_latest(self.registry)


def _age(now: datetime, oldest: datetime | None) -> float:
    return max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0


def _forget(gauge: Gauge, label: str) -> None:
    with contextlib.suppress(KeyError):  # never sampled: nothing to drop
        gauge.remove(label)
