"""Unit tokens: a hash finds its unit until it is revoked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from connectors.db.unit_tokens_store import SqlUnitTokens
from gateway.ports import StoreConflict

pytestmark = pytest.mark.integration

AT = datetime(2025, 8, 1, tzinfo=UTC)
CUC_VIEC_LAM = "000.00.12.G07"
VAN_PHONG = "000.00.01.G07"


async def test_tokens_find_their_unit_until_revoked(db_uow: SqlUnitOfWorkFactory) -> None:
    async with db_uow() as uow:
        await uow.tokens.add(CUC_VIEC_LAM, "a" * 64, "Cục Việc làm — hệ thống nội bộ", AT)
        await uow.tokens.add(CUC_VIEC_LAM, "b" * 64, "rotation", AT)
        await uow.tokens.add(VAN_PHONG, "c" * 64, "Văn phòng Bộ", AT)
        await uow.commit()
    async with db_uow() as uow:
        assert await uow.tokens.unit_for("a" * 64) == CUC_VIEC_LAM
        assert await uow.tokens.unit_for("c" * 64) == VAN_PHONG
        assert await uow.tokens.unit_for("d" * 64) is None
        assert await SqlUnitTokens(uow.session).revoke("a" * 64, AT) is True
        assert await SqlUnitTokens(uow.session).revoke("a" * 64, AT) is False
        assert await SqlUnitTokens(uow.session).revoke("d" * 64, AT) is False
        await uow.commit()
    async with db_uow() as uow:
        assert await uow.tokens.unit_for("a" * 64) is None
        assert await uow.tokens.unit_for("b" * 64) == CUC_VIEC_LAM


async def test_a_token_hash_belongs_to_one_unit(db_uow: SqlUnitOfWorkFactory) -> None:
    async with db_uow() as uow:
        await uow.tokens.add(CUC_VIEC_LAM, "a" * 64, "one", AT)
        await uow.commit()
    async with db_uow() as uow:
        with pytest.raises(StoreConflict):
            await uow.tokens.add(VAN_PHONG, "a" * 64, "other", AT)
