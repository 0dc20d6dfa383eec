"""Units for operators: each unit with its queue binding and what routes to it, the routing
configuration in force (read-only: it is config/, changed by an edit and a restart), and the
units' REST tokens — listed without their secret, created (the secret shown once), revoked.

Token changes are for admins only, and each is recorded with who did it (`record_action`) in the
transaction that makes it. The role is checked here as well as at the door, so a console page or a
script that forgets its dependency still cannot create a token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from connectors.amqp.topology import CASES_EXCHANGE, unit_binding_key, unit_error_queue_name
from gateway.domain.case_views import UnitToken
from gateway.domain.operators import Principal, Role
from gateway.domain.routing import RoutingTable, Rule
from gateway.domain.text import nfc
from gateway.ops.action_log import record_action
from gateway.ops.errors import InvalidRequest, NotFound, RoleTooLow
from gateway.ports import UnitOfWorkFactory
from gateway.units.tokens import new_token, token_hash

MAX_LABEL = 255


@dataclass(frozen=True)
class UnitBinding:
    code: str
    name: str
    queue: str
    exchange: str
    binding_key: str
    error_queue: str
    triage: bool
    fields: tuple[str, ...]  # fields (lĩnh vực) named by a rule that routes to this unit


@dataclass(frozen=True)
class RuleView:
    position: int  # 1-based, as written in routing.yaml (ties go to the first)
    unit: str
    fields: tuple[str, ...]
    kinds: tuple[str, ...]
    sender_types: tuple[str, ...]
    specificity: int


@dataclass(frozen=True)
class RoutingView:
    triage: str
    fields: tuple[tuple[str, str], ...]  # (code, name)
    rules: tuple[RuleView, ...]


@dataclass(frozen=True)
class IssuedToken:
    token: UnitToken
    secret: str  # shown once: only its hash is stored


class UnitsAdmin:
    def __init__(self, uow: UnitOfWorkFactory, routing: RoutingTable, clock: Callable[[], datetime]) -> None:
        self._uow = uow
        self._routing = routing
        self._clock = clock

    def units(self) -> list[UnitBinding]:
        table = self._routing
        return [
            UnitBinding(
                code=unit.code,
                name=unit.name,
                queue=unit.queue,
                exchange=CASES_EXCHANGE,
                binding_key=unit_binding_key(unit.code),
                error_queue=unit_error_queue_name(unit.code),
                triage=unit.code == table.triage,
                fields=tuple(sorted({f for r in table.rules if r.unit == unit.code for f in r.fields})),
            )
            for unit in table.units.values()
        ]

    def routing(self) -> RoutingView:
        table = self._routing
        return RoutingView(
            triage=table.triage,
            fields=tuple((f.code, f.name) for f in table.fields.values()),
            rules=tuple(_rule_view(n, rule) for n, rule in enumerate(table.rules, start=1)),
        )

    async def tokens(self, principal: Principal, unit: str | None = None) -> list[UnitToken]:
        _admin(principal)
        if unit is not None:
            self._known_unit(unit)
        async with self._uow() as uow:
            return await uow.tokens.listing(unit)

    async def create_token(self, principal: Principal, unit: str, label: str = "") -> IssuedToken:
        _admin(principal)
        self._known_unit(unit)
        text = nfc(label).strip() or f"unit {unit}"
        if len(text) > MAX_LABEL:
            raise InvalidRequest(
                f"nhãn dài quá {MAX_LABEL} ký tự", f"label is longer than {MAX_LABEL} characters",
                code="Token.InvalidLabel",
            )
        secret, now = new_token(), self._clock()
        async with self._uow() as uow:
            token_id = await uow.tokens.add(unit, token_hash(secret), text, now)
            detail = f"token {token_id}: {text}"
            await record_action(uow, principal, "token.create", f"unit:{unit}", detail, now)
            await uow.commit()
        return IssuedToken(UnitToken(token_id, unit, text, now, None), secret)

    async def revoke_token(self, principal: Principal, token_id: int) -> UnitToken:
        """Revoking a revoked token changes nothing and records nothing (safe to repeat)."""
        _admin(principal)
        now = self._clock()
        async with self._uow() as uow:
            token = await uow.tokens.get_token(token_id)
            if token is None:
                raise NotFound(
                    f"không có mã truy cập {token_id}", f"no unit token {token_id}", code="Token.Unknown"
                )
            if token.revoked_at is not None or not await uow.tokens.revoke_id(token_id, now):
                return token
            target, detail = f"unit:{token.unit_code}", f"token {token_id}: {token.label}"
            await record_action(uow, principal, "token.revoke", target, detail, now)
            await uow.commit()
        return UnitToken(token.id, token.unit_code, token.label, token.created_at, now)

    def _known_unit(self, unit: str) -> None:
        if self._routing.unit(unit) is None:
            raise NotFound(f"không có đơn vị {unit}", f"no unit {unit}", code="UnknownUnit")


def _rule_view(position: int, rule: Rule) -> RuleView:
    return RuleView(
        position=position,
        unit=rule.unit,
        fields=tuple(sorted(rule.fields)),
        kinds=tuple(sorted(k.value for k in rule.kinds)),
        sender_types=tuple(sorted(s.value for s in rule.sender_types)),
        specificity=rule.specificity,
    )


def _admin(principal: Principal) -> None:
    if not principal.can(Role.ADMIN):
        raise RoleTooLow(
            f"vai trò {principal.role.value} không được quản lý mã truy cập của đơn vị; cần admin",
            f"role {principal.role.value} may not manage unit tokens; admin needed",
        )
