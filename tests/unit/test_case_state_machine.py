import itertools

import pytest

from gateway.domain.case import ALLOWED, TERMINAL, Case, Status
from gateway.domain.errors import InvalidTransition, WrongUnit
from tests.unit.samples import WHEN

pytestmark = pytest.mark.unit


def new_case(unit: str = "VBHXH") -> Case:
    return Case.arrive("PAKN-1", unit, "f" * 64, WHEN)


def test_arrival_records_01_then_03_with_rising_seq() -> None:
    case = new_case()
    assert [(h.seq, h.status) for h in case.history] == [(1, Status.ARRIVED), (2, Status.ACCEPTED)]
    assert case.status is Status.ACCEPTED
    assert [e.status for e in case.events] == [Status.ARRIVED, Status.ACCEPTED]


def test_full_life_assign_claim_answer() -> None:
    case = new_case()
    case.assign(WHEN)
    case.claim("VBHXH", WHEN)
    case.complete("VBHXH", WHEN)
    assert [h.status.value for h in case.history] == ["01", "03", "04", "05", "06"]
    assert [h.seq for h in case.history] == [1, 2, 3, 4, 5]
    assert not case.is_open


def test_second_assign_confirm_changes_nothing() -> None:
    case = new_case()
    case.assign(WHEN)
    case.assign(WHEN)
    assert [h.status.value for h in case.history] == ["01", "03", "04"]


def test_claim_by_another_unit_is_refused() -> None:
    case = new_case()
    case.assign(WHEN)
    with pytest.raises(WrongUnit):
        case.claim("CVL", WHEN)
    assert case.status is Status.ASSIGNED


def test_answer_before_assignment_is_refused() -> None:
    case = new_case()
    with pytest.raises(InvalidTransition):
        case.complete("VBHXH", WHEN)


def test_withdrawn_case_cannot_be_answered() -> None:
    case = new_case()
    case.assign(WHEN)
    case.withdraw(WHEN)
    with pytest.raises(InvalidTransition):
        case.claim("VBHXH", WHEN)
    assert case.status is Status.WITHDRAWN


def test_reassign_moves_the_case_to_another_unit() -> None:
    case = new_case()
    case.assign(WHEN)
    case.reassign("VBHXH", "CVL", WHEN, "thuộc lĩnh vực việc làm")
    assert case.unit_code == "CVL"
    assert case.history[-1].status is Status.ASSIGNED
    assert case.history[-1].unit_code == "CVL"
    assert "việc làm" in case.history[-1].description


@pytest.mark.parametrize(("source", "target"), list(itertools.product(Status, Status)))
def test_every_move_outside_the_table_is_refused(source: Status, target: Status) -> None:
    case = Case("P", "U", "x")
    case._record(source, WHEN)
    if target in ALLOWED[source]:
        case._move(target, WHEN)
        assert case.status is target
    else:
        with pytest.raises(InvalidTransition):
            case._move(target, WHEN)
        assert case.status is source


def test_terminal_states() -> None:
    assert {Status.COMPLETED, Status.REJECTED, Status.TRANSFERRED, Status.WITHDRAWN} == TERMINAL


def test_a_closed_case_takes_no_supplement() -> None:
    case = new_case()
    case.accept_supplement()
    case.withdraw(WHEN)
    with pytest.raises(InvalidTransition):
        case.accept_supplement()
