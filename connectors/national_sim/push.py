"""Push generated petitions into a gateway, as the national portal would, and count what came back.

A thread pool with one `MinistryClient` per worker thread (zeep clients and the signing plugin's
last-response record are per client), all sharing one signing key loaded once (re-reading the PEM
per signature is 40 times slower). Faults and transport errors are counted, never raised: a load
run must finish and report.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zeep.exceptions

import signing
from connectors.national_sim.generator import generate_petitions
from connectors.national_sim.ministry_client import GOVERNMENT_OFFICE, MOLISA, MinistryClient
from connectors.national_sim.recorder import SimRecorder

__all__ = ["PushReport", "PushResult", "push", "wsdl_url_of"]


@dataclass(frozen=True)
class PushResult:
    """The fate of one petition: a receipt, a SOAP fault (`fault_code`) or a transport `error`."""

    petition_id: str
    message_id: str | None
    accepted: bool
    duplicate: bool
    fault_code: str | None
    error: str | None
    seconds: float


@dataclass
class PushReport:
    sent: int = 0
    accepted: int = 0
    """Receipts with Accepted=true and Duplicate=false: petitions the gateway stored now."""
    duplicates: int = 0
    """Receipts with Duplicate=true: the gateway already had the petition."""
    faults: dict[str, int] = field(default_factory=dict)
    """Fault code as the gateway wrote it (e.g. "soap:Client.SchemaInvalid") -> count."""
    errors: dict[str, int] = field(default_factory=dict)
    """Transport failures (no answer at all) by exception name -> count."""
    petition_ids: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    """Wall-clock seconds for the whole push."""

    @property
    def per_second(self) -> float:
        return self.sent / self.elapsed if self.elapsed > 0 else 0.0


def wsdl_url_of(gateway_url: str) -> str:
    """`http://host:port` -> `http://host:port/soap/pakn?wsdl`; a URL already naming a WSDL is kept."""
    if "?wsdl" in gateway_url or gateway_url.endswith(".wsdl"):
        return gateway_url
    return f"{gateway_url.rstrip('/')}/soap/pakn?wsdl"


def push(
    gateway_url: str,
    pki_dir: Path,
    count: int,
    *,
    seed: int | None = None,
    concurrency: int = 4,
    on_result: Callable[[PushResult], None] | None = None,
    petitions: Sequence[dict[str, Any]] | None = None,
    recorder: SimRecorder | None = None,
    national_id: str = GOVERNMENT_OFFICE,
    ministry_id: str = MOLISA,
    timeout: float = 30.0,
) -> PushReport:
    """Generate `count` petitions (or send `petitions` as given) and submit each once.

    Signs with `pki_dir/national.pem` + `national.key`; verifies signed receipts against
    `pki_dir/ca.pem` when it exists. `recorder` (the simulator's) learns the petitions first, so its
    `ListPetitions` can serve them to the gateway's reconciliation. `on_result` is called from the
    worker threads, once per petition.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    key = signing.load_pem_key(pki_dir / "national.pem", pki_dir / "national.key")
    ca = pki_dir / "ca.pem"
    trust = signing.TrustStore.from_pem_files(ca) if ca.exists() else None
    batch = list(petitions) if petitions is not None else generate_petitions(count, seed=seed)
    if recorder is not None:
        recorder.register_petitions(batch)
    wsdl_url = wsdl_url_of(gateway_url)
    local = threading.local()

    def client() -> MinistryClient:
        existing: MinistryClient | None = getattr(local, "client", None)
        if existing is None:
            existing = MinistryClient(
                wsdl_url, key, national_id=national_id, ministry_id=ministry_id, timeout=timeout, trust=trust
            )
            local.client = existing
        return existing

    def send(petition: dict[str, Any]) -> PushResult:
        result = _submit(client, petition)
        if on_result is not None:
            on_result(result)
        return result

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="national-push") as pool:
        results = list(pool.map(send, batch))
    report = PushReport(elapsed=time.perf_counter() - started)
    faults: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    for result in results:
        report.sent += 1
        report.petition_ids.append(result.petition_id)
        report.accepted += int(result.accepted and not result.duplicate)
        report.duplicates += int(result.duplicate)
        if result.fault_code:
            faults[result.fault_code] += 1
        if result.error:
            errors[result.error] += 1
    report.faults, report.errors = dict(faults), dict(errors)
    return report


def _submit(client: Callable[[], MinistryClient], petition: dict[str, Any]) -> PushResult:
    petition_id = str(petition["PetitionId"])
    started = time.perf_counter()
    message_id = str(uuid.uuid4())
    try:
        receipt = client().submit_petition(petition, message_id=message_id)
    except zeep.exceptions.Fault as fault:
        return PushResult(petition_id, message_id, False, False, str(fault.code), None, _since(started))
    except (zeep.exceptions.Error, OSError) as exc:  # requests' exceptions are OSErrors
        return PushResult(petition_id, message_id, False, False, None, type(exc).__name__, _since(started))
    return PushResult(
        petition_id, message_id, receipt.Accepted, receipt.Duplicate, None, None, _since(started)
    )


def _since(started: float) -> float:
    return time.perf_counter() - started
