"""The bearer-token rule every unit route shares: the path's unit exists and the token is that unit's."""

from collections.abc import Awaitable, Callable

from fastapi import Request

from gateway.domain.routing import RoutingTable
from gateway.ports import UnitOfWorkFactory
from gateway.units.problems import Problem
from gateway.units.tokens import token_hash

UnitCheck = Callable[[str, Request], Awaitable[str]]


def unit_auth(uow: UnitOfWorkFactory, routing: RoutingTable) -> UnitCheck:
    """A FastAPI dependency giving the ``{unit}`` of the path once its token is checked.

    404 ``UnknownUnit`` for a unit not in config/, 401 ``Unauthenticated`` without a known token,
    403 ``Forbidden`` for another unit's token.
    """

    async def authorised_unit(unit: str, request: Request) -> str:
        if routing.unit(unit) is None:
            raise Problem("UnknownUnit", unit)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Problem("Unauthenticated")
        async with uow() as u:
            holder = await u.tokens.unit_for(token_hash(token.strip()))
        if holder is None:
            raise Problem("Unauthenticated")
        if holder != unit:
            raise Problem("Forbidden", f"token belongs to another unit, not {unit}")
        return unit

    return authorised_unit
