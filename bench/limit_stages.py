"""The raw stages of limits.py, each measured alone: wall rate and the CPU it cost, per message.

Every stage is bounded by a count and by seconds (whichever comes first) and says how many
messages it did. CPU is counted where the work happens (`cpu.CpuMeter`): this process, the
broker, PostgreSQL, the no-op server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aio_pika
import cpu
import harness
import httpx
import rawhttp
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree
from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, bindparam, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

import schemas
from connectors.db.engine import make_engine, make_sessions
from connectors.national_sim.ministry_client import GOVERNMENT_OFFICE, MOLISA, message_header
from connectors.national_sim.vn_time import VN_TZ
from connectors.soap_signing import build_signed_client

HERE = Path(__file__).resolve().parent


@dataclass
class Stage:
    stage: str
    case: str
    count: int
    seconds: float
    cpu: dict[str, float] = field(default_factory=dict)
    note: str = ""

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0

    def cpu_ms(self, *groups: str) -> float:
        """CPU milliseconds per message, over the named groups (all of them if none named)."""
        names = groups or tuple(self.cpu)
        return 1000 * sum(self.cpu.get(name, 0.0) for name in names) / max(self.count, 1)

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"per_second": round(self.per_second, 1), "cpu_ms_per_message": self.cpu_ms()}


def _meter(*extra: cpu.Group) -> cpu.CpuMeter:
    return cpu.CpuMeter([cpu.self_group(), *extra])


# --------------------------------------------------------------------------- CPU in this process


def timed_loop(name: str, case: str, work: Callable[[], object], count: int, seconds: float) -> Stage:
    """Call `work` until `count` calls or `seconds` have passed; one warm-up call first."""
    work()
    done = 0
    deadline = time.perf_counter() + seconds
    with _meter() as meter:
        while done < count and time.perf_counter() < deadline:
            work()
            done += 1
    return Stage(name, case, done, meter.wall, meter.cpu)


def rsa_sign_stage(count: int, seconds: float) -> list[Stage]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    data = os.urandom(512)
    sig = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    public = key.public_key()
    return [
        timed_loop(
            "cryptography",
            "RSA-2048 sign (PKCS#1 v1.5, SHA-256)",
            lambda: key.sign(data, padding.PKCS1v15(), hashes.SHA256()),
            count,
            seconds,
        ),
        timed_loop(
            "cryptography",
            "RSA-2048 verify",
            lambda: public.verify(sig, data, padding.PKCS1v15(), hashes.SHA256()),
            count,
            seconds,
        ),
    ]


def xml_stages(detached: bytes, schema: etree.XMLSchema, count: int, seconds: float) -> list[Stage]:
    from gateway.inbound.xml_guard import hardened_parser

    parser = hardened_parser()

    def parse() -> None:
        etree.fromstring(detached, parser=parser)

    def parse_validate() -> None:
        if not schema.validate(etree.fromstring(detached, parser=parser)):
            raise RuntimeError("the benchmark's petition message is not valid")

    note = f"{len(detached)} bytes"
    stages = [
        timed_loop("lxml", "parse", parse, count, seconds),
        timed_loop("lxml", "parse + XSD validate", parse_validate, count, seconds),
    ]
    for stage in stages:
        stage.note = note
    return stages


def dsig_stages(
    unsigned: etree._Element, signed: bytes, key: Any, trust: Any, count: int, seconds: float
) -> list[Stage]:
    import signing

    return [
        timed_loop(
            "XML-DSig (signxml)",
            "sign, key object loaded once",
            lambda: signing.sign_xml(unsigned, key),
            count,
            seconds,
        ),
        timed_loop(
            "XML-DSig (signxml)",
            "verify (trust store, chain check)",
            lambda: signing.verify_xml(signed, trust),
            count,
            seconds,
        ),
    ]


# --------------------------------------------------------------------------- RabbitMQ


async def amqp_stages(amqp_url: str, count: int, seconds: float, size: int = 2048) -> list[Stage]:
    """Publish with confirms to a quorum queue (awaited one by one, then pipelined in windows),
    then consume + ack what was published, at two prefetch counts. The queue is the vhost's own."""
    body = os.urandom(size // 2).hex().encode()
    connection = await aio_pika.connect(amqp_url, timeout=10)
    out: list[Stage] = []
    try:
        channel = await connection.channel(publisher_confirms=True)
        queue_name = f"bench.limits.{secrets.token_hex(4)}"
        queue = await channel.declare_queue(
            queue_name, durable=True, arguments={"x-queue-type": "quorum", "x-delivery-limit": 5}
        )
        exchange = channel.default_exchange

        def message() -> aio_pika.Message:
            return aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT, message_id="m")

        async def publish(total: int, window: int, limit: float) -> Stage:
            done = 0
            deadline = time.perf_counter() + limit
            with _meter(cpu.broker_group()) as meter:
                while done < total and time.perf_counter() < deadline:
                    n = min(window, total - done)
                    await asyncio.gather(*(exchange.publish(message(), queue_name) for _ in range(n)))
                    done += n
            case = "one awaited publish at a time" if window == 1 else f"pipelined, window {window}"
            return Stage(
                "aio-pika publish + confirm",
                case,
                done,
                meter.wall,
                meter.cpu,
                f"{size} B persistent, quorum queue",
            )

        out.append(await publish(min(count // 10, 2000), 1, seconds))
        out.append(await publish(count, 100, seconds))
        out.append(await publish(count, 1000, seconds))
        published = sum(s.count for s in out)
        remaining = published
        for prefetch in (50, 500):
            take = min(remaining // 2 if prefetch == 50 else remaining, count)
            out.append(await _consume(connection, queue_name, prefetch, take, seconds))
            remaining -= out[-1].count
        await queue.delete(if_unused=False, if_empty=False)
    finally:
        await connection.close()
    return out


async def _consume(connection: Any, queue_name: str, prefetch: int, take: int, seconds: float) -> Stage:
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=prefetch)
    queue = await channel.get_queue(queue_name)
    done = 0
    finished = asyncio.Event()

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        nonlocal done
        if done >= take:
            return  # not acked: goes back when the channel closes
        await message.ack()
        done += 1
        if done >= take:
            finished.set()

    with _meter(cpu.broker_group()) as meter:
        tag = await queue.consume(on_message)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(finished.wait(), seconds)
    await queue.cancel(tag)
    await channel.close()
    return Stage(
        "aio-pika consume + ack", f"prefetch {prefetch}", done, meter.wall, meter.cpu, "quorum queue"
    )


# --------------------------------------------------------------------------- HTTP


def start_noop_server() -> tuple[subprocess.Popen[bytes], int]:
    """`noop_server.py` in a process of its own, answering; (process, port)."""
    port = harness.free_port()
    server = subprocess.Popen(
        [sys.executable, str(HERE / "noop_server.py"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.post(f"http://127.0.0.1:{port}/noop", content=b"x", timeout=2)
            return server, port
        except httpx.TransportError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError("the no-op server did not start") from None
            time.sleep(0.2)


async def http_stages(detached: bytes, concurrency: int, count: int, seconds: float) -> list[Stage]:
    """POSTs to `noop_server.py` from `concurrency` keep-alive connections."""
    server, port = await asyncio.to_thread(start_noop_server)
    try:
        stages = []
        for path, body, case in (
            ("/noop", detached, "no-op route, body read"),
            ("/xsd", detached, "route + parse + XSD validate"),
        ):
            stages.append(await _hammer(port, path, body, case, server.pid, concurrency, count, seconds))
        return stages
    finally:
        server.terminate()
        await asyncio.to_thread(server.wait, 15)


async def zeep_stage(count: int, seconds: float) -> Stage:
    """The gateway's SOAP client library on its own: `ReceiveStatus` calls through zeep (the client
    `build_signed_client` makes, with no key: nothing signed, nothing verified) over requests to the
    no-op server's fixed Receipt, one after another. DESIGN §6 names zeep for the portal's calls, so
    its cost per call — building the envelope from the payload, the HTTP round trip through
    requests, parsing the Receipt — is a stage of every status, beside the signature's sign and
    verify. The server's CPU is counted apart ("server"): on the wire the portal does that work."""
    server, port = await asyncio.to_thread(start_noop_server)
    try:
        return await asyncio.to_thread(_zeep_calls, port, server.pid, count, seconds)
    finally:
        server.terminate()
        await asyncio.to_thread(server.wait, 15)


def _zeep_calls(port: int, pid: int, count: int, seconds: float) -> Stage:
    _, service, _ = build_signed_client(
        schemas.national_wsdl_path(), key=None, trust=None, address=f"http://127.0.0.1:{port}/soap/receipt"
    )

    def call(seq: int) -> None:
        header = message_header(MOLISA, GOVERNMENT_OFFICE)
        status = {
            "PetitionId": "000.00.00.H01-250701-000001",
            "StatusCode": "05",
            "Description": "Đang xử lý tại Cục Việc làm",
            "UnitCode": "CVL",
            "ChangedAt": datetime.now(VN_TZ).replace(microsecond=0),
            "Seq": seq,
        }
        receipt = service.ReceiveStatus(Header=header, Status=status)
        if not receipt.Accepted:
            raise RuntimeError("the no-op server's Receipt was not read as accepted")

    call(0)
    done = 0
    deadline = time.perf_counter() + seconds
    with _meter(cpu.Group("server", pid)) as meter:
        while done < count and time.perf_counter() < deadline:
            done += 1
            call(done)
    return Stage(
        "zeep client call (requests)",
        "ReceiveStatus, unsigned, fixed Receipt",
        done,
        meter.wall,
        meter.cpu,
        "one call at a time; the server's CPU counted as 'server'",
    )


async def _hammer(
    port: int, path: str, body: bytes, case: str, pid: int, concurrency: int, count: int, seconds: float
) -> Stage:
    done = 0
    deadline = time.perf_counter() + seconds
    bad = 0

    async def worker() -> None:
        nonlocal done, bad
        connection = rawhttp.Connection("127.0.0.1", port)
        try:
            while done < count and time.perf_counter() < deadline:
                done += 1
                answer = await connection.post(path, body, "text/xml; charset=utf-8")
                if answer.status != 200 or answer.body != b"ok":
                    bad += 1
        finally:
            await connection.close()

    await asyncio.gather(*(_warm(port, path, body) for _ in range(concurrency)))
    with _meter(cpu.Group("server", pid)) as meter:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    if bad:
        raise RuntimeError(f"{bad} of {done} answers from {path} were not 200 ok")
    return Stage(
        "HTTP POST (uvicorn+uvloop+httptools, FastAPI)",
        case,
        done,
        meter.wall,
        meter.cpu,
        f"{len(body)} B body, {concurrency} keep-alive connections",
    )


async def _warm(port: int, path: str, body: bytes) -> None:
    connection = rawhttp.Connection("127.0.0.1", port)
    try:
        await connection.post(path, body, "text/xml; charset=utf-8")
    finally:
        await connection.close()


# --------------------------------------------------------------------------- databases

_meta = MetaData()
_rows = Table("bench_rows", _meta, Column("id", Integer, primary_key=True), Column("body", LargeBinary))


async def db_stages(kind: str, url: str, count: int, seconds: float, size: int = 3072) -> list[Stage]:
    """3 KB rows committed 1 and 100 at a time through the gateway's engine settings (make_engine:
    SQLite in WAL with synchronous=FULL and BEGIN IMMEDIATE; PostgreSQL through asyncpg)."""
    engine = make_engine(url)
    extra = [cpu.postgres_group(make_url(url).database or "")] if kind == "postgresql" else []
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_meta.create_all)
        stages = [
            await _commits(engine, kind, 1, min(count // 5, 5000), seconds, size, extra),
            await _commits(engine, kind, 100, count, seconds, size, extra),
            await _statements(engine, kind, count, seconds, extra),
        ]
        async with engine.begin() as conn:
            await conn.run_sync(_meta.drop_all)
        return stages
    finally:
        await engine.dispose()


async def _commits(
    engine: AsyncEngine,
    kind: str,
    per_commit: int,
    count: int,
    seconds: float,
    size: int,
    extra: list[cpu.Group],
) -> Stage:
    body = os.urandom(size)
    done = 0
    deadline = time.perf_counter() + seconds
    async with engine.connect() as conn:
        await conn.execute(insert(_rows), [{"body": body}])  # a warm connection, a warm backend
        await conn.commit()
        with _meter(*extra) as meter:
            while done < count and time.perf_counter() < deadline:
                await conn.execute(insert(_rows), [{"body": body} for _ in range(per_commit)])
                await conn.commit()
                done += per_commit
    name = "SQLite (WAL, synchronous=FULL)" if kind == "sqlite" else "PostgreSQL (asyncpg, sync commit)"
    return Stage(name, f"{per_commit} row(s) per commit", done, meter.wall, meter.cpu, f"{size} B rows")


async def _statements(
    engine: AsyncEngine, kind: str, count: int, seconds: float, extra: list[cpu.Group]
) -> Stage:
    """One SELECT by primary key through an AsyncSession, as the repositories issue theirs (100 per
    transaction): what each of the gateway's many statements per petition costs, commit aside."""
    sessions = make_sessions(engine)
    done = 0
    deadline = time.perf_counter() + seconds
    query = select(_rows.c.body).where(_rows.c.id == bindparam("key"))
    async with sessions() as session:
        await session.execute(query, {"key": 1})
        await session.commit()
        with _meter(*extra) as meter:
            while done < count and time.perf_counter() < deadline:
                for key in range(1, 101):
                    (await session.execute(query, {"key": key})).scalar_one_or_none()
                await session.commit()
                done += 100
    name = "SQLite (WAL, synchronous=FULL)" if kind == "sqlite" else "PostgreSQL (asyncpg, sync commit)"
    return Stage(
        name,
        "SELECT by key, AsyncSession (per statement)",
        done,
        meter.wall,
        meter.cpu,
        "100 statements per transaction",
    )


# --------------------------------------------------------------------------- answer letters


def _old_stamp_font(name: str) -> bytes:
    """The stamp font as it was before BENCHMARKS.md's fix: its layout tables (GSUB, GPOS, GDEF)
    kept, which pyHanko's per-signature subsetting reads again each time."""
    from io import BytesIO

    from fontTools import subset  # type: ignore[import-untyped]
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
    from fontTools.ttLib.scaleUpem import scale_upem  # type: ignore[import-untyped]

    from signing import stamp_font

    font = TTFont(stamp_font.font_path(name))
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.glyph_names = True
    options.hinting = False
    options.drop_tables += ["FFTM"]
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=[c for low, high in stamp_font._UNICODE_RANGES for c in range(low, high + 1)])
    subsetter.subset(font)
    scale_upem(font, stamp_font.PDF_UNITS_PER_EM)
    buffer = BytesIO()
    font.save(buffer)
    return buffer.getvalue()


def pdf_stages(key: Any, count: int, seconds: float) -> list[Stage]:
    """Render the official answer letter (reportlab) and PAdES B-B sign it (pyHanko, key loaded
    once, visible stamp): now, and with the stamp font of before the fix, in the same run."""
    import functools
    from datetime import date

    import signing
    from connectors.amqp.demo_unit import answer_text
    from gateway.outbound.letter import Letter, render_letter
    from signing import stamp_font

    letter = Letter(
        agency="Bộ Lao động - Thương binh và Xã hội",
        unit="Vụ Bảo hiểm xã hội",
        number="1/VBHXH-PAKN",
        place="Hà Nội",
        date=date(2026, 12, 1),
        subject="trả lời phản ánh, kiến nghị",
        recipient="Ông Nguyễn Văn A",
        body=answer_text("Chậm chi trả trợ cấp thất nghiệp tại tỉnh Thanh Hóa"),
        recipients=("Như trên;", "Lưu: VT, VBHXH."),
        signer_name="Nguyễn Thị Minh Hằng",
        signer_position="Phó Chánh Văn phòng Bộ",
    )
    rendered = render_letter(letter)

    def sign() -> None:
        signing.sign_pdf(
            rendered.pdf,
            key,
            signer_name=letter.signer_name,
            organisation=letter.agency,
            location=letter.place,
            page=rendered.signature_page,
            box=rendered.signature_box,
        )

    note = f"letter {len(rendered.pdf) // 1024} KB"
    stages = [
        timed_loop(
            "answer letter",
            "render (reportlab, Decree 30 layout)",
            lambda: render_letter(letter),
            count,
            seconds,
        ),
        timed_loop("answer letter", "PAdES B-B sign with visible stamp", sign, count, seconds),
    ]
    current = stamp_font.stamp_font_bytes
    stamp_font.stamp_font_bytes = functools.lru_cache(maxsize=4)(_old_stamp_font)  # type: ignore[assignment]
    try:
        stages.append(
            timed_loop("answer letter", "PAdES sign, before: font with layout tables", sign, count, seconds)
        )
    finally:
        stamp_font.stamp_font_bytes = current  # type: ignore[assignment]
    for stage in stages:
        stage.note = note
    return stages
