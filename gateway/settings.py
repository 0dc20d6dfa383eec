"""The one typed settings object, read once at start from the environment (prefix PAKN_)."""

from __future__ import annotations

import logging
from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)

DEFAULT_HOME = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAKN_", env_file=None, extra="ignore")

    environment: str = Field("development", description="development | test | production")
    database_url: str = Field(
        f"sqlite+aiosqlite:///{DEFAULT_HOME / 'pakn.db'}",
        description="SQLite file by default; postgresql+asyncpg://… in production",
    )
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    workers: int = Field(
        1, ge=1, le=64, description="Processes `serve` runs on the one port, each a whole instance "
        "(PostgreSQL only; > 1 with SQLite is refused at start)"
    )
    public_url: str | None = Field(
        None, description="Base URL peers use to reach the gateway (the WSDL's endpoint address)"
    )
    config_dir: Path | None = Field(None, description="Routing data; the packaged MOLISA default if unset")
    pki_dir: Path = DEFAULT_HOME / "pki"
    signing_cert: Path | None = Field(
        None, description="Gateway certificate (PEM); default PKI_DIR/ministry.pem"
    )
    signing_key: Path | None = Field(None, description="Gateway key (PEM); default PKI_DIR/ministry.key")
    signing_pkcs12: Path | None = Field(
        None, description="Gateway key and certificate as PKCS#12 (.p12/.pfx), instead of the PEM pair"
    )
    signing_key_password: SecretStr | None = Field(
        None, description="Password of the signing key (PEM or PKCS#12); prefer the _FILE form"
    )
    signing_key_password_file: Path | None = Field(
        None, description="File holding the signing key's password (e.g. a mounted secret)"
    )
    trust_store: list[Path] = Field(
        default_factory=list, description="CA certificates (PEM) trusted for inbound signatures"
    )
    verify_signatures: bool = Field(
        True, description="Refuse unsigned or badly signed national messages (off only in development)"
    )
    ministry_id: str = "000.00.00.G07"
    national_id: str = "000.00.00.G22"
    max_body_bytes: int = 20 * 1024 * 1024
    max_xml_depth: int = 64
    amqp_delivery_limit: int = 5
    outbox_batch: int = 500
    outbox_poll_seconds: float = 0.5
    database_pool_size: int = Field(
        20, ge=1, description="PostgreSQL connections kept open for reuse (10 more may open in a burst)"
    )
    message_log_batch: int = Field(
        100, ge=1, description="Message-log entries written per commit at most (group commit); 1: one each"
    )
    reply_concurrency: int = Field(
        8, ge=1, description="Petitions whose unit replies are applied side by side (one at a time each)"
    )
    reply_group_size: int = Field(
        32, ge=1, description="Unit replies written per commit at most (group commit); 1: one each"
    )
    national_url: str = "http://127.0.0.1:8090/soap/national"
    national_timeout: float = Field(
        30.0, gt=0, description="Seconds: connect and read timeout of a portal call"
    )
    national_concurrency: int = Field(8, ge=1, description="Calls to the national portal in flight at once")
    national_retry_attempts: int = Field(
        3,
        ge=1,
        description="Quick tries of one call while the portal is unavailable, before the outbox backs off",
    )
    national_batch: int = Field(100, ge=1, description="National outbox messages taken per round")
    national_max_backoff_seconds: float = Field(
        300.0, gt=0, description="Cap of the outbox's backoff between deliveries of one message"
    )
    national_breaker_threshold: int = Field(
        5, ge=1, description="Consecutive unavailable calls that open the circuit breaker"
    )
    national_breaker_reset_seconds: float = Field(
        30.0, gt=0, description="How long an open breaker waits before one trial call"
    )
    national_base_backoff_seconds: float = Field(
        1.0, gt=0, description="First step of the outbox's exponential backoff (full jitter)"
    )
    tsa_url: str | None = Field(
        None, description="RFC 3161 timestamp authority: answer PDFs are PAdES B-T with it, B-B without"
    )
    audit_checkpoint_seconds: float = Field(
        3600.0, ge=0, description="Sign a checkpoint of the message log's head every N seconds; 0: off"
    )
    audit_retention_days: int | None = Field(
        None, ge=1, description="Message-log rows older than this are exported and pruned from the store "
        "(`audit prune`, and nightly with audit_export_dir); unset: kept for ever"
    )
    audit_export_dir: Path | None = Field(
        None, description="Where pruned message-log segments are written (verified before any row goes); "
        "with audit_retention_days the gateway prunes by itself at audit_prune_at"
    )
    audit_prune_at: str = Field(
        "03:00", description="Nightly message-log prune at this Vietnam time, HH:MM; 'off': only by hand"
    )
    seal_image: Path | None = Field(None, description="Image of the ministry's seal, drawn in the PDF stamp")
    reconcile_at: str = Field(
        "02:00", description="Nightly reconciliation (ListPetitions) at this Vietnam time, HH:MM; 'off': none"
    )
    reconcile_interval_seconds: float = Field(
        0.0, ge=0, description="> 0: reconcile every N seconds instead of nightly (pull mode)"
    )
    reconcile_lookback_days: int = Field(30, ge=1, description="How far back a reconciliation asks, in days")
    reconcile_page_size: int = Field(100, ge=1, le=1000, description="Petitions per ListPetitions page")
    retry_delays_seconds: list[float] = Field(
        default_factory=lambda: [10.0, 60.0, 600.0, 3600.0],
        description="The retry ladder: delays before each new try — unit replies (then pakn.dead), "
        "outbox rows the broker will not take (then the last delay again), national messages failing "
        "unexpectedly (then dead)",
    )
    tls_cert: Path | None = Field(
        None, description="Serve https with this certificate (PEM, chain after the leaf); unset: plain http"
    )
    tls_key: Path | None = Field(None, description="The key of TLS_CERT (PEM)")
    tls_client_ca: Path | None = Field(
        None,
        description="Mutual TLS: every client presents a certificate from these CAs (PEM); unset: none asked",
    )
    ops_session_idle_minutes: float = Field(
        30.0, gt=0, description="An operator session unused this long ends (console and /api/ops)"
    )
    ops_session_max_hours: float = Field(12.0, gt=0, description="No operator session lives longer")
    ops_cookie_secure: bool | None = Field(
        None, description="Mark the session cookie Secure; unset: when PUBLIC_URL or the request is https"
    )
    ops_login_max_failures: int = Field(
        5, ge=1, description="Wrong passwords in a row that lock an operator account"
    )
    ops_lockout_minutes: float = Field(15.0, gt=0, description="How long a locked operator account waits")
    log_format: Literal["text", "json"] | None = Field(
        None, description="text | json (one JSON object a line); unset: text in development, else json"
    )
    metrics_sample_seconds: float = Field(
        15.0, gt=0, description="How often /metrics' queue depths, outbox lag and case counts are sampled"
    )
    console_sample_seconds: float = Field(
        10.0, gt=0, description="How often the console samples traffic and queue depths for its charts "
        "(kept in memory for 6 hours)"
    )
    deadline_check_seconds: float = Field(
        300.0, ge=0, description="How often the gateway looks for cases to date and reminders to send; 0: off"
    )
    due_soon_working_days: int = Field(
        2, ge=0, description="A case with this many working days left (or fewer) is flagged due soon"
    )
    reminder_working_days: list[int] = Field(
        default_factory=lambda: [2],
        description="Reminders to the unit holding a case, this many working days before its due date "
        "(JSON list; [] for none)",
    )
    reminder_overdue: bool = Field(True, description="Also remind the unit once when a case is overdue")

    @field_validator("reminder_working_days")
    @classmethod
    def _reminder_days_are_natural(cls, value: list[int]) -> list[int]:
        if any(d < 0 or d > 366 for d in value):
            raise ValueError("must be a JSON list of working days 0..366 before the due date, e.g. [5, 2]")
        return sorted(set(value), reverse=True)

    @field_validator("retry_delays_seconds")
    @classmethod
    def _retry_delays_are_positive(cls, value: list[float]) -> list[float]:
        if not value or any(d <= 0 for d in value):
            raise ValueError("must be a non-empty JSON list of positive seconds, e.g. [10, 60, 600, 3600]")
        return value

    @field_validator("reconcile_at", "audit_prune_at")
    @classmethod
    def _reconcile_at_is_a_time(cls, value: str) -> str:
        value = value.strip().lower()
        if value != "off":
            time.fromisoformat(value)  # a ValueError names the bad value in the settings error
        return value

    @property
    def reconcile_time(self) -> time | None:
        """When the nightly reconciliation runs (Vietnam time), or None when it is off."""
        return None if self.reconcile_at == "off" else time.fromisoformat(self.reconcile_at)

    @property
    def audit_prune_time(self) -> time | None:
        """When the gateway prunes the message log by itself (Vietnam time), or None when it does not:
        it needs a retention period and an export directory too."""
        if self.audit_retention_days is None or self.audit_export_dir is None or self.audit_prune_at == "off":
            return None
        return time.fromisoformat(self.audit_prune_at)

    @model_validator(mode="after")
    def _tls_is_whole(self) -> Settings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("PAKN_TLS_CERT and PAKN_TLS_KEY go together")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise ValueError("PAKN_TLS_CLIENT_CA (mutual TLS) needs PAKN_TLS_CERT and PAKN_TLS_KEY")
        return self

    @model_validator(mode="after")
    def _production_is_strict(self) -> Settings:
        # A gateway that accepts unsigned petitions in production could be fed anything.
        if self.environment == "production" and not self.verify_signatures:
            raise ValueError("PAKN_VERIFY_SIGNATURES=false is refused when PAKN_ENVIRONMENT=production")
        return self

    @property
    def effective_log_format(self) -> str:
        """`log_format`, or its default: text for a person at a terminal, JSON for a log collector."""
        if self.log_format is not None:
            return self.log_format
        return "text" if self.environment == "development" else "json"

    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls_cert is not None else "http"
        return (self.public_url or f"{scheme}://{self.http_host}:{self.http_port}").rstrip("/")

    @property
    def cert_path(self) -> Path:
        return self.signing_cert or self.pki_dir / "ministry.pem"

    @property
    def key_path(self) -> Path:
        return self.signing_key or self.pki_dir / "ministry.key"

    def key_password(self) -> bytes | None:
        if self.signing_key_password_file is not None:
            # A trailing newline is how editors and `echo` end files; it is never part of a password.
            return self.signing_key_password_file.read_bytes().rstrip(b"\r\n")
        if self.signing_key_password is not None:
            return self.signing_key_password.get_secret_value().encode("utf-8")
        return None

    @property
    def trust_paths(self) -> list[Path]:
        return self.trust_store or [self.pki_dir / "ca.pem"]

    def warn_if_unsafe(self) -> None:
        if not self.verify_signatures:
            log.warning(
                "SIGNATURE VERIFICATION IS OFF (PAKN_VERIFY_SIGNATURES=false): inbound national messages "
                "are accepted without checking who signed them. Development only."
            )
