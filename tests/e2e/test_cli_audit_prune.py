"""`pakn-gateway audit prune` as an operator runs it: the real console script on a real SQLite file.

Old rows leave the store only into a verified export file; `audit verify` then checks what stays
and the files; edits to either are caught and named."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.e2e.test_cli import run
from tests.e2e.test_cli_audit import logged, prepared, sql


def later() -> str:
    return (datetime.now(UTC) + timedelta(minutes=1)).isoformat()


def ids_left(tmp_path: Path) -> list[int]:
    with sqlite3.connect(tmp_path / "var" / "pakn.db") as db:
        return [row[0] for row in db.execute("SELECT id FROM message_log ORDER BY id")]


def test_prune_exports_verifies_deletes_and_verify_still_passes(tmp_path: Path) -> None:
    env, ids = prepared(tmp_path, 4)
    archive = tmp_path / "archive"
    assert run(["audit", "checkpoint"], env, tmp_path).returncode == 0

    dry = run(["audit", "prune", "--before", later(), "--out-dir", str(archive), "--dry-run"], env, tmp_path)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert f"would export and delete 4 entries (ids {ids[0]}–{ids[-1]})" in dry.stdout
    assert ids_left(tmp_path) == ids and not archive.exists()

    pruned = run(["audit", "prune", "--before", later(), "--out-dir", str(archive)], env, tmp_path)
    assert pruned.returncode == 0, pruned.stdout + pruned.stderr
    assert f"pruned 4 entries (ids {ids[0]}–{ids[-1]})" in pruned.stdout
    files = list(archive.iterdir())
    assert len(files) == 1 and str(files[0]) in pruned.stdout and ids_left(tmp_path) == []
    with sqlite3.connect(tmp_path / "var" / "pakn.db") as db:
        path, sha256 = db.execute("SELECT path, sha256 FROM message_log_segments").fetchone()
    assert path == str(files[0]) and sha256 in pruned.stdout

    again = run(["audit", "prune", "--before", later(), "--out-dir", str(archive)], env, tmp_path)
    assert again.returncode == 0 and "nothing to prune" in again.stdout, again.stdout + again.stderr

    more = logged(tmp_path, 3)  # the log goes on after the pruned segment
    assert more[0] == ids[-1] + 1
    intact = run(["audit", "verify"], env, tmp_path)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert "INTACT" in intact.stdout and "3 entries" in intact.stdout
    assert f"entries up to {ids[-1]} pruned into 1 export files" in intact.stdout
    alone = run(["audit", "verify", "--file", str(files[0])], env, tmp_path)
    assert alone.returncode == 0 and "4 entries" in alone.stdout and "INTACT" in alone.stdout, alone.stdout

    sql(tmp_path, "DELETE FROM message_log WHERE id = ?", more[1])
    broken = run(["audit", "verify"], env, tmp_path)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert f"BROKEN at entry {more[2]}: Log.Link" in broken.stdout


def test_an_edited_export_file_is_caught_by_both_verifications(tmp_path: Path) -> None:
    env, ids = prepared(tmp_path, 3)
    archive = tmp_path / "archive"
    assert run(["audit", "checkpoint"], env, tmp_path).returncode == 0
    pruned = run(["audit", "prune", "--before", later(), "--out-dir", str(archive)], env, tmp_path)
    assert pruned.returncode == 0, pruned.stdout + pruned.stderr
    (file,) = archive.iterdir()
    docs = [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines()]
    victim = next(d for d in docs if d["type"] == "entry" and d["id"] == ids[1])
    victim["raw"] = "PEZvcmdlZC8+"  # <forged/>
    file.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")

    store = run(["audit", "verify"], env, tmp_path)
    assert store.returncode == 1, store.stdout + store.stderr
    assert f"BROKEN at entry {ids[0]}: Log.SegmentDigest" in store.stdout
    assert f"also at entry {ids[1]}: Log.RawDigest" in store.stdout
    alone = run(["audit", "verify", "--file", str(file)], env, tmp_path)
    assert alone.returncode == 1 and f"BROKEN at entry {ids[1]}: Log.RawDigest" in alone.stdout, alone.stdout

    file.unlink()
    lost = run(["audit", "verify"], env, tmp_path)
    assert lost.returncode == 1, lost.stdout + lost.stderr
    assert f"BROKEN at entry {ids[0]}: Log.SegmentMissing" in lost.stdout


def test_prune_is_refused_without_a_checkpoint_or_a_verifying_export(tmp_path: Path) -> None:
    env, ids = prepared(tmp_path, 3)
    archive = tmp_path / "archive"
    refused = run(["audit", "prune", "--before", later(), "--out-dir", str(archive)], env, tmp_path)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "REFUSED, nothing deleted: Log.NoCheckpoint" in refused.stderr

    assert run(["audit", "checkpoint"], env, tmp_path).returncode == 0
    sql(tmp_path, "UPDATE message_log SET outcome = 'duplicate' WHERE id = ?", ids[1])
    refused = run(["audit", "prune", "--before", later(), "--out-dir", str(archive)], env, tmp_path)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "Log.ExportUnverified" in refused.stderr and f"Log.EntryHash at entry {ids[1]}" in refused.stderr
    assert ids_left(tmp_path) == ids and list(archive.iterdir()) == []

    no_dir = run(["audit", "prune", "--before", later()], env, tmp_path)
    assert no_dir.returncode == 2 and "PAKN_AUDIT_EXPORT_DIR" in no_dir.stderr, no_dir.stderr
    no_date = run(["audit", "prune", "--out-dir", str(archive)], env, tmp_path)
    assert no_date.returncode == 2 and "PAKN_AUDIT_RETENTION_DAYS" in no_date.stderr, no_date.stderr
    untrusted = tmp_path / "other"
    assert run(["pki", "init", str(untrusted)], env, tmp_path).returncode == 0
    sql(tmp_path, "UPDATE message_log SET outcome = 'accepted' WHERE id = ?", ids[1])  # intact again
    trusting_another = ["--trust", str(untrusted / "ca.pem")]
    stranger = run(
        ["audit", "prune", "--before", later(), "--out-dir", str(archive), *trusting_another], env, tmp_path
    )
    assert stranger.returncode == 1 and "Log.CheckpointSignature" in stranger.stderr, stranger.stderr
    assert ids_left(tmp_path) == ids


def test_the_settings_give_the_defaults(tmp_path: Path) -> None:
    archive = tmp_path / "from-settings"
    env, ids = prepared(tmp_path, 2)
    env |= {"PAKN_AUDIT_EXPORT_DIR": str(archive), "PAKN_AUDIT_RETENTION_DAYS": "1"}
    assert run(["audit", "checkpoint"], env, tmp_path).returncode == 0
    # The checkpoint is younger than a day: nothing is due yet by the retention period.
    waiting = run(["audit", "prune"], env, tmp_path)
    assert waiting.returncode == 0 and "nothing to prune" in waiting.stdout, waiting.stdout + waiting.stderr
    assert ids_left(tmp_path) == ids
    pruned = run(["audit", "prune", "--before", later()], env, tmp_path)
    assert pruned.returncode == 0 and str(archive) in pruned.stdout, pruned.stdout + pruned.stderr
    assert ids_left(tmp_path) == [] and len(list(archive.iterdir())) == 1
