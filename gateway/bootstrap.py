"""The composition root: the one place that picks concrete adapters and wires them to services."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from lxml import etree
from sqlalchemy.ext.asyncio import AsyncEngine

import schemas
import signing
from connectors.amqp.queue_stats import QueueStats
from connectors.db.case_search_store import SqlCaseReads
from connectors.db.engine import make_engine, make_sessions, read_only
from connectors.db.log_checkpointer import LogCheckpointer
from connectors.db.log_prune import LogPruner
from connectors.db.metrics_figures import StoreFigures, store_figures
from connectors.db.relay_leadership import RelayLeadership
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from connectors.national.client import WireObserver, ZeepNationalClient
from gateway.deadlines.config import load_policy
from gateway.deadlines.reminders import DeadlineWatch
from gateway.deadlines.schedule import DeadlineSchedule
from gateway.domain.deadlines import DeadlinePolicy, Threshold
from gateway.inbound.delivery import StoreOutboxSource
from gateway.inbound.intake import Intake, utc_now
from gateway.inbound.log_group_commit import LogGroupCommit
from gateway.inbound.message_log_hook import MessageLogHook
from gateway.inbound.pulled_petition import PulledPetitionDecoder
from gateway.inbound.reconcile import Reconciliation
from gateway.inbound.reconcile_schedule import ReconcileSchedule, daily_at, every
from gateway.inbound.signature_check import SignatureCheck
from gateway.inbound.soap_route import EndpointPolicy, MinistryEndpoint
from gateway.inbound.wsdl import ServedContract
from gateway.inbound.xml_guard import hardened_parser
from gateway.log_checkpoint_schedule import CheckpointSchedule
from gateway.log_prune_schedule import PruneSchedule
from gateway.observability.metrics import GatewayMetrics
from gateway.observability.sampler import MetricsSampler, topology_queues
from gateway.ops.accounts import Accounts, SessionPolicy
from gateway.ops.case_ops import CaseOps
from gateway.ops.case_page import CasePages
from gateway.ops.case_search import CaseSearch
from gateway.ops.units_admin import UnitsAdmin
from gateway.outbound.answer_documents import SignedLetters
from gateway.outbound.circuit_breaker import CircuitBreaker
from gateway.outbound.national_sender import NationalSender
from gateway.outbound.replies import Replies
from gateway.outbound.wire_log import NationalWireLog
from gateway.routing_config import GatewayConfig, load_config
from gateway.settings import Settings
from gateway.startup_errors import StartupError

log = logging.getLogger(__name__)

EXPIRY_WARNING_DAYS = 30


class CommitSignal:
    """Called after every commit of the intake and the reply service: wakes the workers that drain
    what the commit added (the outbox relay, the national sender) instead of waiting for their poll."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    def listen(self, wake: Callable[[], None]) -> None:
        self._listeners.append(wake)

    def __call__(self) -> None:
        for wake in self._listeners:
            wake()


@dataclass
class Runtime:
    settings: Settings
    config: GatewayConfig
    engine: AsyncEngine
    uow: SqlUnitOfWorkFactory
    intake: Intake
    endpoint: MinistryEndpoint
    contract: ServedContract
    outbox_source: StoreOutboxSource
    signer: signing.SigningKey
    replies: Replies
    national_client: ZeepNationalClient
    national_sender: NationalSender
    relay_leadership: RelayLeadership
    reconciliation: Reconciliation
    accounts: Accounts

    committed: CommitSignal
    log_checkpointer: LogCheckpointer | None = None
    log_pruner: LogPruner | None = None  # only when the nightly prune is on (Settings.audit_prune_time)
    metrics: GatewayMetrics = field(default_factory=GatewayMetrics)
    deadlines: DeadlinePolicy | None = None  # the working-day calendar and limits (config/)
    deadline_watch: DeadlineWatch | None = None  # dates cases, reminds units (deadline_schedule)


def ensure_dev_pki(settings: Settings) -> None:
    """On embedded defaults the gateway makes its own development PKI; production never does."""
    if settings.environment == "production":
        return
    if settings.signing_cert or settings.signing_key or settings.signing_pkcs12 or settings.trust_store:
        return
    if not (settings.pki_dir / "ministry.pem").exists():
        log.warning("no keys in %s: creating a DEVELOPMENT PKI (not for production)", settings.pki_dir)
        signing.init_dev_pki(
            settings.pki_dir, ministry_id=settings.ministry_id, national_id=settings.national_id
        )


def load_signer(settings: Settings, now: datetime | None = None) -> signing.SigningKey:
    """The gateway's signing key, loaded once. Refused: an expired certificate, a key that does not
    match it. A hardware token (PKCS#11) would plug in here: pyhanko.sign.pkcs11 for PDFs and a
    signxml key object backed by the token for XML — `signing` keeps that behind its narrow API."""
    try:
        password = settings.key_password()
        if settings.signing_pkcs12 is not None:
            key = signing.load_pkcs12(settings.signing_pkcs12, password)
        else:
            key = signing.load_pem_key(settings.cert_path, settings.key_path, password)
    except OSError as exc:
        raise StartupError(f"signing key password file: {exc}") from exc
    except signing.SigningError as exc:
        raise StartupError(f"signing key: {exc}") from exc
    source = settings.signing_pkcs12 or settings.cert_path
    days = signing.certificate_days_left(key.certificate, now)
    if days < 0:
        raise StartupError(f"signing certificate {source} expired {-days:.0f} days ago")
    if days < EXPIRY_WARNING_DAYS:
        log.warning("signing certificate %s expires in %.0f days: renew it now", source, days)
    return key


def load_trust(settings: Settings) -> signing.TrustStore | None:
    if not settings.verify_signatures:
        return None
    missing = [p for p in settings.trust_paths if not Path(p).exists()]
    if missing:
        raise StartupError(f"trust store file(s) not found: {', '.join(map(str, missing))}")
    return signing.TrustStore.from_pem_files(*settings.trust_paths)


def load_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(schemas.xsd_path()), parser=hardened_parser()))


def build_runtime(settings: Settings) -> Runtime:
    config = load_config(settings.config_dir)
    if config.ministry.organ_id != settings.ministry_id:
        raise StartupError(
            f"config/ names ministry {config.ministry.organ_id} "
            f"but PAKN_MINISTRY_ID is {settings.ministry_id}"
        )
    ensure_dev_pki(settings)
    signer = load_signer(settings)
    trust = load_trust(settings)
    engine = make_engine(settings.database_url, pool_size=settings.database_pool_size)
    uow = SqlUnitOfWorkFactory(make_sessions(engine))
    deadlines = load_policy(settings.config_dir, due_soon_days=settings.due_soon_working_days)
    intake = Intake(uow=uow, routing=config.routing, deadlines=deadlines)
    metrics = GatewayMetrics()
    # the SOAP edge's hook counts what the portal sends; the outbound calls are counted by the client
    # one group commit for every entry of the log, in and out: the hash chain writes one at a time
    log_writes = LogGroupCommit(uow, max_batch=settings.message_log_batch)
    message_log = MessageLogHook(uow, utc_now, observer=metrics.national_logged, group=log_writes)
    endpoint = MinistryEndpoint(
        policy=EndpointPolicy(
            ministry_id=settings.ministry_id,
            national_id=settings.national_id,
            max_body_bytes=settings.max_body_bytes,
            max_depth=settings.max_xml_depth,
        ),
        intake=intake,
        check=SignatureCheck(trust, enabled=settings.verify_signatures),
        schema=load_schema(),
        message_log=message_log,
        signer=signer,
        on_signed=metrics.signed_xml,
    )
    replies = Replies(
        uow=uow,
        routing=config.routing,
        documents=SignedLetters(
            config.ministry,
            signer,
            tsa_url=settings.tsa_url,
            seal_image=settings.seal_image,
            on_signed=metrics.signed_pdf,
        ),
        on_reply=metrics.unit_reply,
        group_size=settings.reply_group_size,
    )
    wire_log = NationalWireLog(
        MessageLogHook(uow, utc_now, group=log_writes), national_id=settings.national_id
    )
    client, sender = build_national(settings, uow, signer, trust, wire_log, metrics=metrics)
    reconciliation = Reconciliation(
        listing=client,
        intake=intake,
        uow=uow,
        decode=PulledPetitionDecoder(
            load_schema(), max_bytes=settings.max_body_bytes, max_depth=settings.max_xml_depth
        ),
        ministry_id=settings.ministry_id,
        national_id=settings.national_id,
        clock=utc_now,
        lookback=timedelta(days=settings.reconcile_lookback_days),
        page_size=settings.reconcile_page_size,
    )
    committed = CommitSignal()
    committed.listen(sender.wake)  # every status change goes to the national outbox in the same commit
    intake.on_commit = committed
    replies.on_commit = sender.wake  # a reply's commit adds statuses for the portal, nothing for the relay
    replies.on_unit_message = committed  # ...unless it transferred the case: the new unit's message
    watch = build_deadline_watch(settings, uow, deadlines, config, on_commit=committed)
    return Runtime(
        settings=settings,
        config=config,
        engine=engine,
        uow=uow,
        intake=intake,
        endpoint=endpoint,
        contract=ServedContract(settings.public_url),
        outbox_source=StoreOutboxSource(
            uow, utc_now, metrics.case_message, retry_delays=settings.retry_delays_seconds
        ),
        signer=signer,
        replies=replies,
        national_client=client,
        national_sender=sender,
        relay_leadership=RelayLeadership(engine),
        reconciliation=reconciliation,
        accounts=build_accounts(settings, uow),
        committed=committed,
        log_checkpointer=build_checkpointer(settings, uow, signer),
        log_pruner=build_pruner(settings, uow, signer=signer) if settings.audit_prune_time else None,
        metrics=metrics,
        deadlines=deadlines,
        deadline_watch=watch,
    )


def build_sampler(rt: Runtime, queues: QueueStats | None = None) -> MetricsSampler:
    """The gauges that need I/O: store figures on read-only sessions (on SQLite they never take the
    write lock the intake needs), queue depths on a broker connection of the sampler's own
    (``queues``: a reader shared with the console's sampler, so the broker is asked once)."""
    sessions = make_sessions(read_only(rt.engine))

    async def read_store(now: datetime) -> StoreFigures:
        async with sessions() as session:
            return await store_figures(session, now)

    settings = rt.settings
    return MetricsSampler(
        rt.metrics,
        read_store=read_store,
        queues=queues or QueueStats(settings.amqp_url),
        queue_names=topology_queues(list(rt.config.routing.units), settings.retry_delays_seconds),
        interval=settings.metrics_sample_seconds,
        clock=utc_now,
    )


def build_case_ops(rt: Runtime) -> CaseOps:
    """The operators' case search, case pages and unit administration (REST and console share them)."""
    reads = SqlCaseReads(rt.engine)
    policy = rt.deadlines
    horizon = (lambda now: policy.horizon(now, policy.due_soon_days)) if policy is not None else None
    return CaseOps(
        search=CaseSearch(reads, rt.config.routing, utc_now, horizon),
        pages=CasePages(reads, utc_now),
        units=UnitsAdmin(rt.uow, rt.config.routing, utc_now),
    )


def build_accounts(settings: Settings, uow: SqlUnitOfWorkFactory) -> Accounts:
    """Operator accounts and sessions of the console and `/api/ops`, on the settings' policy."""
    policy = SessionPolicy(
        idle=timedelta(minutes=settings.ops_session_idle_minutes),
        max_age=timedelta(hours=settings.ops_session_max_hours),
        max_failures=settings.ops_login_max_failures,
        lockout=timedelta(minutes=settings.ops_lockout_minutes),
    )
    return Accounts(uow, policy, utc_now)


def build_checkpointer(
    settings: Settings, uow: SqlUnitOfWorkFactory, signer: signing.SigningKey
) -> LogCheckpointer:
    """Signed checkpoints of the message log, by the gateway's key; timestamped when a TSA is set."""
    return LogCheckpointer(
        uow, signer, ministry_id=settings.ministry_id, tsa_url=settings.tsa_url, clock=utc_now
    )


def checkpoint_schedule(
    settings: Settings, checkpointer: LogCheckpointer | None
) -> CheckpointSchedule | None:
    """Every `audit_checkpoint_seconds`; None when that is 0 (or the runtime has no checkpointer)."""
    if checkpointer is None or settings.audit_checkpoint_seconds <= 0:
        return None
    return CheckpointSchedule(checkpointer.checkpoint, settings.audit_checkpoint_seconds)


def build_pruner(
    settings: Settings,
    uow: SqlUnitOfWorkFactory,
    *,
    export_dir: Path | None = None,
    trust_paths: list[Path] | None = None,
    signer: signing.SigningKey | None = None,
) -> LogPruner:
    """Retention of the message log: segments exported to `export_dir` (default audit_export_dir),
    verified against the audit trust store (default PAKN_TRUST_STORE) before any row goes.

    With `signer`, the trust store must trust the gateway's own key, which signs the checkpoints:
    otherwise every prune would be refused, night after night, so the start is refused instead.
    """
    directory = export_dir or settings.audit_export_dir
    if directory is None:
        raise StartupError("no export directory for pruned message-log segments: set PAKN_AUDIT_EXPORT_DIR")
    try:
        trust = signing.TrustStore.from_pem_files(*(trust_paths or settings.trust_paths))
        if signer is not None:
            probe = b"pakn-gateway: can the audit trust store verify this key's checkpoints?"
            signing.verify_statement(
                probe, signing.sign_statement(probe, signer), signer.certificate, trust, chain=signer.chain
            )
    except signing.SigningError as exc:
        raise StartupError(f"message-log pruning: audit trust store: {exc}") from exc
    return LogPruner(uow, trust, directory, clock=utc_now)


def prune_schedule(settings: Settings, pruner: LogPruner | None) -> PruneSchedule | None:
    """Nightly at audit_prune_at, pruning what is older than audit_retention_days; None when off."""
    moment = settings.audit_prune_time
    if pruner is None or moment is None or settings.audit_retention_days is None:
        return None
    retention = timedelta(days=settings.audit_retention_days)
    return PruneSchedule(pruner.prune, retention, daily_at(moment), utc_now)


def build_deadline_watch(
    settings: Settings,
    uow: SqlUnitOfWorkFactory,
    policy: DeadlinePolicy,
    config: GatewayConfig,
    *,
    on_commit: Callable[[], None] = lambda: None,
) -> DeadlineWatch:
    """Reminders at `reminder_working_days` before the due date, and when overdue if asked."""
    thresholds = [Threshold.before(days) for days in settings.reminder_working_days]
    if settings.reminder_overdue:
        thresholds.append(Threshold.overdue())
    return DeadlineWatch(uow, policy, config.routing, thresholds, utc_now, on_commit=on_commit)


def deadline_schedule(settings: Settings, watch: DeadlineWatch | None) -> DeadlineSchedule | None:
    """Every `deadline_check_seconds`; None when that is 0 (or the runtime has no watch)."""
    if watch is None or settings.deadline_check_seconds <= 0:
        return None
    return DeadlineSchedule(watch, settings.deadline_check_seconds)


def reconcile_schedule(settings: Settings, reconciliation: Reconciliation) -> ReconcileSchedule | None:
    """Pull mode every N seconds if set, else nightly at `reconcile_at`; None when both are off."""
    if settings.reconcile_interval_seconds > 0:
        delay = every(settings.reconcile_interval_seconds)
    elif settings.reconcile_time is not None:
        delay = daily_at(settings.reconcile_time)
    else:
        return None
    return ReconcileSchedule(reconciliation.run, delay, utc_now)


def build_national(
    settings: Settings,
    uow: SqlUnitOfWorkFactory,
    signer: signing.SigningKey,
    trust: signing.TrustStore | None,
    observer: WireObserver | None = None,
    *,
    metrics: GatewayMetrics | None = None,
) -> tuple[ZeepNationalClient, NationalSender]:
    """The outbound direction's far end: the signing zeep client (built from the local WSDL, so a
    bad WSDL or key stops the start) and the worker that drains the national outbox through it."""
    client = ZeepNationalClient(
        address=settings.national_url,
        key=signer,
        trust=trust,
        ministry_id=settings.ministry_id,
        national_id=settings.national_id,
        timeout=settings.national_timeout,
        concurrency=settings.national_concurrency,
        attempts=settings.national_retry_attempts,
        observer=observer,
        on_attempt=metrics.national_attempt if metrics else None,
        on_signed=metrics.signed_xml if metrics else None,
    )
    sender = NationalSender(
        uow,
        client,
        clock=utc_now,
        breaker=CircuitBreaker(
            threshold=settings.national_breaker_threshold,
            reset_seconds=settings.national_breaker_reset_seconds,
        ),
        concurrency=settings.national_concurrency,
        batch=settings.national_batch,
        poll_seconds=settings.outbox_poll_seconds,
        base_backoff=settings.national_base_backoff_seconds,
        max_backoff=settings.national_max_backoff_seconds,
        # longer than one send() can take (every quick try timing out), so a live claim never lapses
        lease_seconds=settings.national_retry_attempts * (settings.national_timeout + 10) + 30,
        unexpected_delays=settings.retry_delays_seconds,  # then dead: an outage never is
    )
    return client, sender
