"""PAKN_WORKERS: its bounds, and more than one worker refused on SQLite (the parent's check)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from gateway.cli.main import app as cli_app
from gateway.settings import Settings
from gateway.startup_errors import StartupError
from gateway.workers import check_workers

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/pakn"
SQLITE = "sqlite+aiosqlite:///var/pakn.db"


def test_one_worker_by_default_and_the_environment_sets_more(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().workers == 1
    monkeypatch.setenv("PAKN_WORKERS", "4")
    assert Settings().workers == 4


@pytest.mark.parametrize("workers", [0, -1, 65])
def test_workers_out_of_bounds_are_refused(workers: int) -> None:
    with pytest.raises(ValidationError, match="workers"):
        Settings(workers=workers)


def test_more_than_one_worker_on_sqlite_is_refused_in_both_languages() -> None:
    with pytest.raises(StartupError) as refused:
        check_workers(Settings(workers=2, database_url=SQLITE))
    message = str(refused.value)
    assert "PAKN_WORKERS=2 cần PostgreSQL: SQLite chỉ dùng cho một tiến trình" in message
    assert "PAKN_WORKERS=2 needs PostgreSQL: SQLite is for one process only" in message


def test_one_worker_on_sqlite_and_several_on_postgresql_pass() -> None:
    check_workers(Settings(workers=1, database_url=SQLITE))
    check_workers(Settings(workers=64, database_url=PG))


def test_serve_exits_2_with_the_message_before_building_anything(tmp_path: Path) -> None:
    env = {
        "PAKN_WORKERS": "3",
        "PAKN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db'}",
        "PAKN_PKI_DIR": str(tmp_path / "pki"),
    }
    result = CliRunner().invoke(cli_app, ["serve"], env=env)
    assert result.exit_code == 2, result.output
    assert "Cannot start: PAKN_WORKERS=3 cần PostgreSQL" in result.output
    assert "PAKN_WORKERS=3 needs PostgreSQL" in result.output
    assert not (tmp_path / "pki").exists()  # refused before the app (and a development PKI) was built
