"""The `pakn-gateway` command as a user runs it: real processes, real ports, real RabbitMQ."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from cryptography import x509

import signing
from tests.support.gateway import delete_queues, suffixed_config

EXE = shutil.which("pakn-gateway") or str(Path(sys.executable).parent / "pakn-gateway")


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAKN_")}
    env.update(
        {
            "PAKN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'var' / 'pakn.db'}",
            "PAKN_PKI_DIR": str(tmp_path / "var" / "pki"),
            "COLUMNS": "160",
        }
    )
    env.update(extra)
    return env


def run(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXE, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_pki_init_names_the_organisations(tmp_path: Path) -> None:
    result = run(["pki", "init", str(tmp_path / "pki")], env_for(tmp_path), tmp_path)
    assert result.returncode == 0, result.stderr
    ministry = x509.load_pem_x509_certificate((tmp_path / "pki" / "ministry.pem").read_bytes())
    national = x509.load_pem_x509_certificate((tmp_path / "pki" / "national.pem").read_bytes())
    assert signing.organisation_id(ministry) == "000.00.00.G07"
    assert signing.organisation_id(national) == "000.00.00.G22"
    assert (tmp_path / "pki" / "ca.pem").exists() and (tmp_path / "pki" / "national.key").exists()
    assert ministry.public_key().key_size == 2048  # type: ignore[union-attr]


def test_migrate_then_serve_with_verification_off_warns(tmp_path: Path) -> None:
    env = env_for(tmp_path, PAKN_VERIFY_SIGNATURES="false", PAKN_HTTP_PORT=str(free_port()))
    migrated = run(["migrate"], env, tmp_path)
    assert migrated.returncode == 0 and "revision" in migrated.stdout, migrated.stderr
    process = subprocess.Popen([EXE, "serve"], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{env['PAKN_HTTP_PORT']}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                ready = httpx.get(f"{base}/health/ready", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, "serve exited"
                assert time.monotonic() < deadline, "serve did not come up"
                time.sleep(0.2)
        assert ready.status_code == 200 and ready.json()["database"] == "ok"
        wsdl = httpx.get(f"{base}/soap/pakn?wsdl", timeout=5).text
        assert f'location="{base}/soap/pakn"' in wsdl
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert "SIGNATURE VERIFICATION IS OFF" in stderr


def test_serve_refuses_a_broken_routing_config(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    for name in ("units.yaml", "fields.yaml"):
        shutil.copy(Path(__file__).parents[2] / "config" / name, config / name)
    (config / "routing.yaml").write_text(
        "rules:\n  - {fields: [VIEC_LAM], unit: KHONG_CO}\n", encoding="utf-8"
    )
    result = run(["serve"], env_for(tmp_path, PAKN_CONFIG_DIR=str(config)), tmp_path, timeout=60)
    assert result.returncode == 2
    assert "unknown unit 'KHONG_CO'" in result.stderr


def test_demo_without_rabbitmq_says_how_to_start_it(tmp_path: Path) -> None:
    env = env_for(tmp_path, PAKN_AMQP_URL=f"amqp://guest:guest@127.0.0.1:{free_port()}/")
    result = run(["demo", "--count", "2"], env, tmp_path, timeout=60)
    assert result.returncode == 2
    assert "rabbitmq-server -detached" in result.stdout


async def test_demo_runs_the_main_job(tmp_path: Path) -> None:
    # unit codes of its own, so the demo's messages do not pile up in the shared broker's real queues
    units = suffixed_config(tmp_path / "config", secrets.token_hex(3).upper())
    env = env_for(tmp_path, PAKN_CONFIG_DIR=str(tmp_path / "config"))
    try:
        result = await asyncio.to_thread(run, ["demo", "--count", "12", "--seed", "7"], env, tmp_path)
    finally:
        await delete_queues(list(units.values()))
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "Receipts: accepted 12, duplicates 0, faults 0" in out
    assert "{'06': 12}" in out  # every petition answered by the demo unit
    assert "order violations 0, answers before 04 0" in " ".join(out.split())
    assert "Every petition accepted, delivered to its unit, answered" in " ".join(out.split())
    letters = sorted((tmp_path / "var" / "portal" / "answers").glob("*.pdf"))
    assert len(letters) == 12  # the signed letters the portal received, where the demo says they are
    assert str(letters[0]) in out.replace("\n", "")
    trust = signing.TrustStore.from_pem_files(tmp_path / "var" / "pki" / "ca.pem")
    verdict = await signing.async_verify_pdf(letters[0].read_bytes(), trust)
    assert [(s.intact, s.valid, s.trusted) for s in verdict.signatures] == [(True, True, True)]
