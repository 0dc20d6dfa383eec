"""`pakn-gateway audit …` as an operator runs it: the real console script on a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from connectors.db.engine import make_engine, make_sessions
from connectors.db.migrate import upgrade
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from tests.e2e.test_cli import env_for, run
from tests.integration.test_store_message_log import entry


def logged(tmp_path: Path, how_many: int) -> list[int]:
    """A migrated database under tmp_path/var with `how_many` message-log rows."""

    async def fill() -> list[int]:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'var' / 'pakn.db'}")
        try:
            await upgrade(engine)
            uow = SqlUnitOfWorkFactory(make_sessions(engine))
            ids = []
            for n in range(how_many):
                async with uow() as u:
                    ids.append(await u.message_log.append(entry(n)))
                    await u.commit()
            return ids
        finally:
            await engine.dispose()

    return asyncio.run(fill())


def sql(tmp_path: Path, statement: str, *params: object) -> None:
    with sqlite3.connect(tmp_path / "var" / "pakn.db") as db:
        db.execute(statement, params)


def prepared(tmp_path: Path, how_many: int) -> tuple[dict[str, str], list[int]]:
    env = env_for(tmp_path)
    made = run(["pki", "init", str(tmp_path / "var" / "pki")], env, tmp_path)
    assert made.returncode == 0, made.stderr
    return env, logged(tmp_path, how_many)


def test_checkpoint_verify_export_and_a_tampered_message(tmp_path: Path) -> None:
    env, ids = prepared(tmp_path, 4)
    checkpoint = run(["audit", "checkpoint"], env, tmp_path)
    assert checkpoint.returncode == 0, checkpoint.stderr
    assert f"checkpoint 1 at entry {ids[-1]} (4 entries)" in checkpoint.stdout

    intact = run(["audit", "verify"], env, tmp_path)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert "4 entries" in intact.stdout and "1 checkpoints" in intact.stdout and "INTACT" in intact.stdout

    segment = tmp_path / "segment.jsonl"
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    exported = run(["audit", "export", "--before", later, "--out", str(segment)], env, tmp_path)
    assert exported.returncode == 0, exported.stderr
    alone = run(["audit", "verify", "--file", str(segment)], env, tmp_path)
    assert alone.returncode == 0 and "INTACT" in alone.stdout, alone.stdout + alone.stderr

    sql(tmp_path, "UPDATE message_log SET raw = ? WHERE id = ?", b"<forged/>", ids[1])
    broken = run(["audit", "verify"], env, tmp_path)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert f"BROKEN at entry {ids[1]}: Log.RawDigest" in broken.stdout
    # The export taken before the edit still proves the original.
    assert run(["audit", "verify", "--file", str(segment)], env, tmp_path).returncode == 0


def test_rows_cut_off_after_a_checkpoint_fail_the_audit(tmp_path: Path) -> None:
    env, ids = prepared(tmp_path, 3)
    assert run(["audit", "checkpoint"], env, tmp_path).returncode == 0
    sql(tmp_path, "DELETE FROM message_log WHERE id = ?", ids[-1])
    broken = run(["audit", "verify"], env, tmp_path)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert f"BROKEN at entry {ids[-1]}: Log.Truncated" in broken.stdout


def test_a_checkpoint_not_trusted_and_a_missing_trust_store(tmp_path: Path) -> None:
    env, _ = prepared(tmp_path, 2)
    assert run(["audit", "checkpoint"], env, tmp_path).returncode == 0
    other = tmp_path / "other"
    assert run(["pki", "init", str(other)], env, tmp_path).returncode == 0
    untrusted = run(["audit", "verify", "--trust", str(other / "ca.pem")], env, tmp_path)
    assert untrusted.returncode == 1 and "Log.CheckpointSignature" in untrusted.stdout, untrusted.stdout
    missing = run(["audit", "verify", "--trust", str(tmp_path / "nowhere.pem")], env, tmp_path)
    assert missing.returncode == 2 and "trust store" in missing.stderr, missing.stderr
