import asyncio

import pytest

from gateway.domain.case import Status
from gateway.domain.errors import InvalidTransition, WrongUnit
from gateway.domain.petition import PetitionUpdate, UpdateAction
from gateway.domain.reply import AnswerDraft, ReplyKind, UnitReply
from gateway.inbound.delivery import StoreOutboxSource
from gateway.inbound.intake import Intake
from gateway.outbound.errors import InvalidReply, UnknownCase, UnknownUnit
from gateway.outbound.replies import Replies, ReplyResult
from gateway.routing_config import load_config
from tests.unit.fakes import FakeUnitOfWork, FakeUnitOfWorkFactory
from tests.unit.samples import WHEN, header, petition

pytestmark = pytest.mark.unit

PID = "PAKN-2026-000001"


class LetterMaker:
    """Stands in for rendering + PAdES signing (integration tests use the real ones)."""

    def __init__(self) -> None:
        self.calls = 0

    async def signed_letter(self, **_: object) -> bytes:
        self.calls += 1
        return b"%PDF-1.7 signed letter"


async def setup() -> tuple[Replies, FakeUnitOfWorkFactory, LetterMaker]:
    uow = FakeUnitOfWorkFactory()
    routing = load_config().routing
    await Intake(uow=uow, routing=routing, clock=lambda: WHEN).submit_petition(header(), petition())
    async with uow() as u:  # the relay's confirm
        case = await u.cases.get(PID)
        assert case is not None
        case.assign(WHEN)
        await u.cases.save(case)
        await u.commit()
    letters = LetterMaker()
    return Replies(uow=uow, routing=routing, documents=letters, clock=lambda: WHEN), uow, letters


def reply(kind: ReplyKind, n: int = 1, unit: str = "VBHXH", **kw: object) -> UnitReply:
    return UnitReply(f"00000000-0000-4000-8000-{n:012d}", kind, PID, unit, WHEN, **kw)  # type: ignore[arg-type]


DRAFT = AnswerDraft("Bộ trả lời như sau: …", "Nguyễn Văn An", "Vụ trưởng", publish=True)


def national_ops(uow: FakeUnitOfWorkFactory) -> list[str]:
    return [
        f"{m.operation}:{m.payload.get('StatusCode', '')}" for m in uow.world.national if m.petition_id == PID
    ]


async def test_claim_then_answer_sends_05_answer_06_in_that_order() -> None:
    replies, uow, letters = await setup()
    assert (await replies.handle(reply(ReplyKind.CLAIM))).status == "05"
    result = await replies.handle(reply(ReplyKind.ANSWER, 2, answer=DRAFT))
    assert result.status == "06" and result.answer_id
    assert letters.calls == 1
    assert national_ops(uow) == [
        "ReceiveStatus:01",
        "ReceiveStatus:03",
        "ReceiveStatus:04",
        "ReceiveStatus:05",
        "ReceiveAnswer:",
        "ReceiveStatus:06",
    ]
    seqs = [m.payload["Seq"] for m in uow.world.national if m.operation == "ReceiveStatus"]
    assert seqs == [1, 2, 3, 4, 5]
    [answer] = uow.world.answers
    assert answer.signer_name == "Nguyễn Văn An" and answer.document.startswith(b"%PDF")


async def test_answer_without_claim_claims_first() -> None:
    replies, uow, _ = await setup()
    await replies.handle(reply(ReplyKind.ANSWER, answer=DRAFT))
    assert national_ops(uow)[3:] == ["ReceiveStatus:05", "ReceiveAnswer:", "ReceiveStatus:06"]


async def test_same_reply_twice_is_applied_once() -> None:
    replies, uow, _ = await setup()
    await replies.handle(reply(ReplyKind.CLAIM))
    again = await replies.handle(reply(ReplyKind.CLAIM))
    assert again.duplicate and again.status == "05"
    assert len(national_ops(uow)) == 4


async def test_answer_to_a_withdrawn_case_is_refused_before_any_letter_is_made() -> None:
    replies, uow, letters = await setup()
    intake = Intake(uow=uow, routing=load_config().routing, clock=lambda: WHEN)
    update = PetitionUpdate(PID, UpdateAction.WITHDRAW, "Tôi rút đơn", WHEN)
    await intake.submit_update(header("0b6f3a52-1c1e-4a53-9d43-3b1a4c1f0e99"), update)
    with pytest.raises(InvalidTransition):
        await replies.handle(reply(ReplyKind.ANSWER, answer=DRAFT))
    assert letters.calls == 0 and uow.world.answers == []


async def test_claim_by_the_wrong_unit_is_refused() -> None:
    replies, uow, _ = await setup()
    with pytest.raises(WrongUnit):
        await replies.handle(reply(ReplyKind.CLAIM, unit="CVL"))
    assert uow.world.cases[PID].status is Status.ASSIGNED


async def test_transfer_inside_the_ministry_requeues_for_the_new_unit() -> None:
    replies, uow, _ = await setup()
    result = await replies.handle(reply(ReplyKind.TRANSFER, to_unit="CVL", note="thuộc lĩnh vực việc làm"))
    assert result.status == "04" and uow.world.cases[PID].unit_code == "CVL"
    assert uow.world.outbox[-1].routing_key == "unit.CVL.case.new"
    assert national_ops(uow)[-1] == "ReceiveStatus:04"
    with pytest.raises(WrongUnit):  # the old unit no longer holds it
        await replies.handle(reply(ReplyKind.CLAIM, 2))


async def test_transfer_out_sends_the_request_then_07() -> None:
    replies, uow, _ = await setup()
    out = reply(ReplyKind.TRANSFER_OUT, note="Thuộc thẩm quyền Bộ Nội vụ", suggested_organ_id="000.00.00.G09")
    assert (await replies.handle(out)).status == "07"
    assert national_ops(uow)[-2:] == ["RequestTransfer:", "ReceiveStatus:07"]
    transfer = uow.world.national[-2].payload
    assert transfer == {
        "PetitionId": PID,
        "Reason": "Thuộc thẩm quyền Bộ Nội vụ",
        "SuggestedOrganId": "000.00.00.G09",
    }


async def test_note_keeps_the_status_and_tells_the_portal() -> None:
    replies, uow, _ = await setup()
    await replies.handle(reply(ReplyKind.NOTE, note="Đang xác minh với Bảo hiểm xã hội tỉnh"))
    last = uow.world.national[-1].payload
    assert last["StatusCode"] == "04" and "xác minh" in last["Description"] and last["Seq"] == 4


async def test_bad_replies() -> None:
    replies, _, _ = await setup()
    with pytest.raises(UnknownCase):
        await replies.handle(
            UnitReply("00000000-0000-4000-8000-000000000009", ReplyKind.CLAIM, "X", "VBHXH", WHEN)
        )
    with pytest.raises(UnknownUnit):
        await replies.handle(reply(ReplyKind.TRANSFER, to_unit="KHONG_CO"))
    with pytest.raises(InvalidReply):
        await replies.handle(reply(ReplyKind.NOTE, note="  "))
    with pytest.raises(InvalidReply):
        await replies.handle(reply(ReplyKind.ANSWER))


async def test_a_unit_quicker_than_the_relays_commit_is_not_refused() -> None:
    """The unit consumed the case before the relay recorded the broker's confirm (still 03): its
    reply proves delivery, so 04 is recorded first, then the claim; the late confirm changes nothing."""
    uow = FakeUnitOfWorkFactory()
    routing = load_config().routing
    await Intake(uow=uow, routing=routing, clock=lambda: WHEN).submit_petition(header(), petition())
    replies = Replies(uow=uow, routing=routing, documents=LetterMaker(), clock=lambda: WHEN)
    with pytest.raises(WrongUnit):  # not the unit it was routed to: no proof of delivery, refused
        await replies.handle(reply(ReplyKind.CLAIM, 1, unit="CVL"))
    assert (await replies.handle(reply(ReplyKind.CLAIM, 2))).status == "05"
    await StoreOutboxSource(uow, lambda: WHEN).confirmed(list(uow.world.outbox))  # the confirm, late
    async with uow() as u:
        case = await u.cases.get(PID)
    assert case is not None
    assert [h.status.value for h in case.history] == ["01", "03", "04", "05"]
    assert national_ops(uow)[-2:] == ["ReceiveStatus:04", "ReceiveStatus:05"]


async def test_a_claim_or_note_is_one_transaction_and_an_answer_two() -> None:
    replies, uow, _ = await setup()
    opened: list[int] = []

    def counting() -> FakeUnitOfWork:
        opened.append(1)
        return uow()

    counted = Replies(uow=counting, routing=replies.routing, documents=replies.documents, clock=lambda: WHEN)
    commits = uow.world.commits
    await counted.handle(reply(ReplyKind.CLAIM))
    await counted.handle(reply(ReplyKind.NOTE, 2, note="Đang xác minh"))
    assert (len(opened), uow.world.commits - commits) == (2, 2)
    await counted.handle(reply(ReplyKind.ANSWER, 3, answer=DRAFT))  # read, render and sign, then write
    assert (len(opened), uow.world.commits - commits) == (4, 3)
    sent, history = list(uow.world.national), list(uow.world.cases[PID].history)
    again = await counted.handle(reply(ReplyKind.CLAIM))  # a copy of the first: nothing written
    assert again.duplicate and again.status == "06"
    assert (uow.world.national, uow.world.cases[PID].history) == (sent, history)


async def test_only_a_transfer_wakes_the_outbox_relay_while_every_reply_wakes_the_sender() -> None:
    replies, _, _ = await setup()
    woken: list[str] = []
    replies.on_commit = lambda: woken.append("sender")
    replies.on_unit_message = lambda: woken.append("relay")
    await replies.handle(reply(ReplyKind.CLAIM))
    await replies.handle(reply(ReplyKind.NOTE, 2, note="Đang xác minh hồ sơ"))
    assert woken == ["sender", "sender"]
    other = next(code for code in replies.routing.units if code not in {"VBHXH", replies.routing.triage})
    await replies.handle(reply(ReplyKind.TRANSFER, 3, to_unit=other, note="Chuyển đúng thẩm quyền"))
    assert woken == ["sender", "sender", "sender", "relay"]


class SlowLetters(LetterMaker):
    """A letter that takes a while, noting how many were being made at once."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0
        self.most = 0

    async def signed_letter(self, **_: object) -> bytes:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await asyncio.sleep(0.05)
            return await super().signed_letter()
        finally:
            self.now -= 1


async def test_answers_are_applied_one_at_a_time() -> None:
    replies, _, _ = await setup()
    letters = SlowLetters()
    replies.documents = letters
    outcomes = await asyncio.gather(
        replies.handle(reply(ReplyKind.ANSWER, 5, answer=DRAFT)),
        replies.handle(reply(ReplyKind.ANSWER, 6, answer=DRAFT)),
        return_exceptions=True,
    )
    assert letters.most == 1  # never two letters at once
    # the second read the case after the first had committed: answered already, refused before a letter
    assert isinstance(outcomes[0], ReplyResult) and outcomes[0].status == "06"
    assert isinstance(outcomes[1], InvalidTransition) and letters.calls == 1


class LockRecording(FakeUnitOfWorkFactory):
    """Notes every case read under its row lock, in the order the transactions take the locks."""

    def __init__(self) -> None:
        super().__init__()
        self.locked: list[str] = []

    def __call__(self) -> FakeUnitOfWork:
        uow = super().__call__()
        read = uow.cases.get

        async def get(petition_id: str, *, for_update: bool = False) -> object:
            if for_update:
                self.locked.append(petition_id)
            return await read(petition_id, for_update=for_update)

        uow.cases.get = get  # type: ignore[method-assign, assignment]
        return uow


async def test_a_group_written_reply_by_reply_locks_its_cases_in_petition_id_order() -> None:
    """A group that cannot be written in a few statements (a transfer in it) takes its cases one
    by one: in PetitionId order, as every transaction that locks several cases does (the batched
    reads lock them in that order too: tests/integration/test_reply_groups.py)."""
    uow = LockRecording()
    routing = load_config().routing
    intake = Intake(uow=uow, routing=routing, clock=lambda: WHEN)
    pids = [f"PAKN-2026-{n:06d}" for n in (7, 3, 9, 1, 5)]  # neither sorted nor reversed
    for n, pid in enumerate(pids):
        await intake.submit_petition(header(f"0b6f3a52-1c1e-4a53-9d43-{n:012d}"), petition(pid))
    other = next(code for code in routing.units if code not in {"VBHXH", routing.triage})
    replies = Replies(uow=uow, routing=routing, documents=LetterMaker(), clock=lambda: WHEN)
    sent = [
        UnitReply(f"00000000-0000-4000-8000-{n:012d}", ReplyKind.CLAIM, pid, "VBHXH", WHEN)
        for n, pid in enumerate(pids[:-1])
    ]
    sent.append(
        UnitReply(
            "00000000-0000-4000-8000-000000000099",
            ReplyKind.TRANSFER,
            pids[-1],
            "VBHXH",
            WHEN,
            to_unit=other,
            note="Chuyển đúng thẩm quyền",
        )
    )
    uow.locked.clear()
    results = await asyncio.gather(*(replies.handle(r) for r in sent))
    assert uow.locked == sorted(pids)  # one group: locked in PetitionId order
    assert [(r.petition_id, r.status) for r in results] == [(pid, "05") for pid in pids[:-1]] + [
        (pids[-1], "04")
    ]
