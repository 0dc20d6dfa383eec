"""Due dates at acceptance (the portal's DueAt wins), flags, reminder windows, and the config that
feeds them: refused when wrong, with the file and the entry named."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import datetime, time
from pathlib import Path

import pytest

from gateway.deadlines.config import load_policy
from gateway.domain.deadlines import DueFlag, DueSource, Threshold
from gateway.domain.petition import Kind
from gateway.domain.working_days import VIETNAM
from gateway.routing_config import default_config_dir
from gateway.settings import Settings
from gateway.startup_errors import StartupError
from tests.unit.samples import petition

pytestmark = pytest.mark.unit

POLICY = load_policy()
THU = datetime(2026, 2, 12, 10, 0, tzinfo=VIETNAM)  # Thursday before Tết Bính Ngọ


def end(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 23, 59, 59, tzinfo=VIETNAM)


def test_packaged_limits_state_their_source_or_ask_to_be_configured() -> None:
    assert {k: v.working_days for k, v in POLICY.limits.items()} == {
        Kind.PHAN_ANH: 10,
        Kind.KIEN_NGHI: 10,
        Kind.HOI_DAP: 10,
        Kind.CU_TRI: None,
        Kind.DBQH: None,
    }
    assert "20/2008/NĐ-CP" in POLICY.limits[Kind.PHAN_ANH].source
    for kind in (Kind.CU_TRI, Kind.DBQH):
        assert POLICY.limits[kind].source.startswith("Must be configured")


def test_computed_due_date_counts_the_kinds_limit_across_tet() -> None:
    # KIEN_NGHI: 10 working days from Thu 12/2/2026 10:00: Fri 13/2, (Tết 14-22/2), Mon 23 - Fri 27/2,
    # Mon 2 - Thu 5/3 → the 10th is Thu 5/3/2026
    deadline = POLICY.due_for(petition(kind=Kind.KIEN_NGHI), THU)
    assert (deadline.due_at, deadline.source, deadline.working_days) == (
        end(2026, 3, 5),
        DueSource.CALENDAR,
        10,
    )


def test_the_portals_due_at_wins() -> None:
    portal_due = datetime(2026, 2, 13, 17, 0, tzinfo=VIETNAM)
    deadline = POLICY.due_for(dataclasses.replace(petition(), due_at=portal_due), THU)
    assert (deadline.due_at, deadline.source) == (portal_due, DueSource.PORTAL)
    # even for a kind with no limit of its own
    voters = dataclasses.replace(petition(kind=Kind.CU_TRI), due_at=portal_due)
    assert POLICY.due_for(voters, THU).due_at == portal_due


def test_a_kind_without_a_limit_gets_no_due_date() -> None:
    deadline = POLICY.due_for(petition(kind=Kind.DBQH), THU)
    assert (deadline.due_at, deadline.source) == (None, DueSource.NONE)


def test_flags_due_soon_and_overdue() -> None:
    # now Thu 12/2/2026: working days after today are Fri 13/2 (1), Mon 23/2 (2), Tue 24/2 (3);
    # with 2 days "soon", anything due by the end of Mon 23/2 is due soon
    assert POLICY.horizon(THU, 2) == datetime(2026, 2, 24, 0, 0, tzinfo=VIETNAM)
    assert POLICY.flag(end(2026, 2, 23), "04", THU) is DueFlag.DUE_SOON
    assert POLICY.flag(end(2026, 2, 20), "04", THU) is DueFlag.DUE_SOON  # a Tết day, before Mon 23/2
    assert POLICY.flag(end(2026, 2, 24), "04", THU) is DueFlag.ON_TRACK
    assert POLICY.flag(end(2026, 2, 11), "05", THU) is DueFlag.OVERDUE
    assert POLICY.flag(end(2026, 2, 11), "06", THU) is DueFlag.NONE  # answered: no flag
    assert POLICY.flag(None, "04", THU) is DueFlag.NONE
    assert POLICY.calendar.working_days_left(THU, end(2026, 2, 23)) == 2
    assert POLICY.calendar.working_days_left(THU, end(2026, 2, 12)) == 0
    assert POLICY.calendar.working_days_left(THU, end(2026, 2, 11)) == -1


def test_reminder_windows() -> None:
    assert POLICY.window(Threshold.before(2), THU) == (THU, datetime(2026, 2, 24, tzinfo=VIETNAM))
    # "due today" (0 left): before the next working day, Fri 13/2, starts
    assert POLICY.window(Threshold.before(0), THU) == (THU, datetime(2026, 2, 13, tzinfo=VIETNAM))
    assert POLICY.window(Threshold.overdue(), THU) == (None, THU)
    assert Threshold.before(2).code == "before:2" and Threshold.overdue().code == "overdue"
    with pytest.raises(ValueError, match="0 or more"):
        Threshold.before(-1)


def test_reminder_settings_are_checked() -> None:
    assert Settings(reminder_working_days=[2, 5, 2]).reminder_working_days == [5, 2]
    with pytest.raises(ValueError, match="working days"):
        Settings(reminder_working_days=[-1])


def copy_config(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(default_config_dir(), target, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return target


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("deadlines.yaml", "working_days: 10", "working_days: 0", "PHAN_ANH.working_days must be 1..366"),
        ("deadlines.yaml", "  DBQH:", "  DBQHX:", "unknown kind(s) DBQHX"),
        ("deadlines.yaml", "verified: false\n  KIEN_NGHI", "verified: false\n  KIEN_NGHI_", "unknown kind"),
        ("calendar.yaml", "worked_instead: 2025-04-26", "worked_instead: 2025-04-25", "is not a Saturday"),
        ("calendar.yaml", "day_off: 2025-05-02", "day_off: 2025-05-03", "is a weekend day"),
        ("calendar.yaml", "day_off: 2025-05-02", "day_off: not-a-date", "is not a date"),
        ("calendar.yaml", 'office_close: "17:00"', 'office_close: "5pm"', "calendar.yaml"),
        ("calendar.yaml", "years: [2015, 2060]", "years: [2060, 2015]", "years must lie within"),
    ],
)
def test_bad_config_stops_the_start(tmp_path: Path, file: str, old: str, new: str, message: str) -> None:
    directory = copy_config(tmp_path)
    path = directory / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(
        StartupError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")
    ):
        load_policy(directory)


def test_a_source_is_required(tmp_path: Path) -> None:
    directory = copy_config(tmp_path)
    path = directory / "calendar.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("    source: >-")
    stop = text.index("    note:", start)
    path.write_text(text[:start] + text[stop:], encoding="utf-8")
    with pytest.raises(StartupError, match="needs a `source`"):
        load_policy(directory)


def test_a_config_dir_without_the_files_uses_the_packaged_ones(tmp_path: Path) -> None:
    directory = copy_config(tmp_path)
    (directory / "calendar.yaml").unlink()
    (directory / "deadlines.yaml").unlink()
    policy = load_policy(directory)
    assert policy.limit_for(Kind.PHAN_ANH) == 10
    assert not policy.calendar.is_working_day(datetime(2026, 2, 17, tzinfo=VIETNAM).date())


def test_working_days_entries_override_the_package(tmp_path: Path) -> None:
    directory = copy_config(tmp_path)
    path = directory / "calendar.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "working_days: []",
        'working_days:\n  - {date: 2026-11-24, source: "the ministry works on Ngày Văn hóa Việt Nam"}',
    ).replace("days_off: []", 'days_off:\n  - {date: 2026-11-25, name: "Nghỉ riêng", source: "test"}')
    path.write_text(text, encoding="utf-8")
    calendar = load_policy(directory).calendar
    assert calendar.is_working_day(datetime(2026, 11, 24, tzinfo=VIETNAM).date())
    assert not calendar.is_working_day(datetime(2026, 11, 25, tzinfo=VIETNAM).date())
    assert calendar.day_off_name(datetime(2026, 11, 25, tzinfo=VIETNAM).date()) == "Nghỉ riêng"
    assert calendar.office_close == time(17, 0)
