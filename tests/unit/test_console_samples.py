"""The console's samples: the ring, rates per unit queue, traffic classes, the charts' series."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from gateway.console.i18n import Translator
from gateway.console.overview_charts import depth_series, overview_charts, per_minute, window_minutes
from gateway.console.probe import classify_traffic, unit_of_key
from gateway.console.samples import QueueFigure, Sample, Sampler, SampleRing, queue_rates

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def at(seconds: float, **fields: object) -> Sample:
    return Sample(at=T0 + timedelta(seconds=seconds), **fields)  # type: ignore[arg-type]


def test_the_ring_keeps_only_its_window() -> None:
    ring = SampleRing(interval=10, keep=timedelta(minutes=1))
    for n in range(20):
        ring.add(at(n * 10))
    assert len(ring) == 7  # one minute at one per 10 s, both ends included
    assert ring.latest() == at(190)
    assert [s.at for s in ring.since(T0 + timedelta(seconds=175))] == [
        T0 + timedelta(seconds=180),
        T0 + timedelta(seconds=190),
    ]


def test_queue_rates_in_from_published_out_from_the_queue_s_growth() -> None:
    samples = [
        at(0, queues={"CVL": QueueFigure(10, 1)}),
        at(60, queues={"CVL": QueueFigure(14, 1)}, published={"CVL": 30}),
        at(120, queues={"CVL": QueueFigure(4, 1)}, published={"CVL": 30}),
    ]
    rate = queue_rates(samples, "CVL")
    assert rate.into == 30.0  # 60 published in 2 minutes
    assert rate.out == 33.0  # 60 in, the queue shrank by 6: 66 left it in 2 minutes
    assert queue_rates(samples[:1], "CVL").into is None  # one sample: no rate
    assert queue_rates(samples, "OTHER").into == 0.0


def test_queue_rates_when_the_broker_was_unreachable_at_first() -> None:
    samples = [
        at(0, broker_ok=False),
        at(60, queues={"CVL": QueueFigure(0, 1)}, published={"CVL": 6}),
        at(120, queues={"CVL": QueueFigure(2, 1)}, published={"CVL": 6}),
    ]
    rate = queue_rates(samples, "CVL")
    assert rate.into == 6.0 and rate.out == 4.0  # out over the minute the queue was seen
    assert queue_rates(samples[:2], "CVL").out is None


def test_traffic_with_the_portal_counts_requests_not_receipts() -> None:
    counts = {
        ("in", "SubmitPetition"): 5,  # the portal pushed 5 petitions
        ("out", "SubmitPetition"): 5,  # the gateway's receipts for them: not new traffic
        ("out", "ReceiveStatus"): 7,  # the gateway's calls
        ("in", "ReceiveStatusResponse"): 7,  # the portal's receipts for them
        ("out", "ReceiveAnswer"): 1,
        ("in", "unknown"): 2,  # refused before parsing: still traffic from the portal
    }
    assert classify_traffic(counts) == (7, 8)


def test_unit_of_routing_key() -> None:
    assert unit_of_key("unit.CVL_AB12.case.new") == "CVL_AB12"
    assert unit_of_key("unit.CVL") is None
    assert unit_of_key("other.CVL.case.new") is None


def test_chart_series() -> None:
    samples = [
        at(0, from_portal=0, queues={"A": QueueFigure(0, 0), "B": QueueFigure(0, 0)}),
        at(30, from_portal=3, queues={"A": QueueFigure(2, 0), "B": QueueFigure(0, 0)}),
        at(60, from_portal=1, broker_ok=False),
        at(90, from_portal=0, queues={"A": QueueFigure(1, 0), "B": QueueFigure(5, 0)}),
    ]
    assert per_minute(samples, "from_portal") == [
        ((T0 + timedelta(seconds=30)).timestamp(), 6.0),
        ((T0 + timedelta(seconds=60)).timestamp(), 2.0),
        ((T0 + timedelta(seconds=90)).timestamp(), 0.0),
    ]
    total, *busiest = depth_series(samples, "Tất cả")
    assert [p[1] for p in total.points] == [0.0, 2.0, 6.0]  # the unreachable sample is left out
    assert [s.name for s in busiest] == ["B", "A"]  # busiest first
    assert window_minutes(15) == 15 and window_minutes(7) == 60
    charts = overview_charts(samples, T0 + timedelta(seconds=90), 15, Translator("vi"), 10)
    assert charts.throughput.startswith("<svg") and "Nhận từ Cổng" in dict(charts.throughput_legend).values()


class FlakyProbe:
    def __init__(self) -> None:
        self.calls = 0

    async def sample(self) -> Sample:
        self.calls += 1
        if self.calls == 1:
            raise ConnectionError("store down for a moment")
        return at(self.calls)


async def test_a_failed_sample_is_skipped_and_the_sampler_goes_on() -> None:
    ring = SampleRing(interval=0.01)
    sampler = Sampler(ring, FlakyProbe())
    assert await sampler.take() is None and len(ring) == 0
    assert await sampler.take() == at(2) and len(ring) == 1
    stop = asyncio.Event()
    task = asyncio.create_task(sampler.run(stop))
    await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert len(ring) > 2
