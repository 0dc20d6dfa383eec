"""Every operator action is recorded with who did it, in the transaction that does it."""

from __future__ import annotations

from datetime import datetime

from gateway.domain.operators import OperatorAction, Principal
from gateway.ports import UnitOfWork


async def record_action(
    uow: UnitOfWork, principal: Principal | str, action: str, target: str, detail: str, at: datetime
) -> None:
    """`principal` is a name for actions from the command line (``cli:<os user>``)."""
    username = principal if isinstance(principal, str) else principal.username
    await uow.operators.record_action(OperatorAction(username, action, target, detail, at))
