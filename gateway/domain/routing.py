"""Which unit handles a case: routing is data (config/), this module only reads and applies it.

A rule names any of field, kind and sender type; the most specific matching rule wins (ties go to
the rule written first), and a case that matches nothing goes to the triage unit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from gateway.domain.errors import RoutingConfigError
from gateway.domain.petition import Kind, SenderType
from gateway.domain.text import nfc

UNIT_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,31}$")
QUEUE_PREFIX = "pakn.unit."


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    queue: str


@dataclass(frozen=True)
class FieldOfWork:
    """A lĩnh vực (field of state management)."""

    code: str
    name: str


@dataclass(frozen=True)
class Rule:
    unit: str
    fields: frozenset[str] = frozenset()
    kinds: frozenset[Kind] = frozenset()
    sender_types: frozenset[SenderType] = frozenset()

    @property
    def specificity(self) -> int:
        return sum(1 for criterion in (self.fields, self.kinds, self.sender_types) if criterion)

    def matches(self, field_code: str | None, kind: Kind, sender_type: SenderType) -> bool:
        if self.fields and field_code not in self.fields:
            return False
        if self.kinds and kind not in self.kinds:
            return False
        return not (self.sender_types and sender_type not in self.sender_types)


@dataclass(frozen=True)
class RoutingTable:
    units: dict[str, Unit]
    fields: dict[str, FieldOfWork]
    rules: tuple[Rule, ...]
    triage: str

    def __post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise RoutingConfigError("; ".join(problems))

    def _problems(self) -> Iterable[str]:
        for code, unit in self.units.items():
            if code != unit.code or not UNIT_CODE.match(code):
                yield f"unit code {code!r} must match {UNIT_CODE.pattern}"
            if unit.queue != QUEUE_PREFIX + code:
                yield f"unit {code}: queue must be {QUEUE_PREFIX + code!r}, not {unit.queue!r}"
            if not unit.name.strip():
                yield f"unit {code}: name is empty"
        if self.triage not in self.units:
            yield f"triage unit {self.triage!r} is not among the units"
        for n, rule in enumerate(self.rules, start=1):
            if rule.unit not in self.units:
                yield f"rule {n}: unknown unit {rule.unit!r}"
            for f in sorted(rule.fields - self.fields.keys()):
                yield f"rule {n}: unknown field {f!r}"
            if rule.specificity == 0:
                yield f"rule {n}: names no field, kind or sender type (use the triage unit instead)"

    def route(self, field_code: str | None, kind: Kind, sender_type: SenderType) -> Unit:
        best: Rule | None = None
        for rule in self.rules:
            if rule.matches(field_code, kind, sender_type) and (
                best is None or rule.specificity > best.specificity
            ):
                best = rule
        return self.units[best.unit if best else self.triage]

    def unit(self, code: str) -> Unit | None:
        return self.units.get(code)


def make_unit(code: str, name: str, queue: str | None = None) -> Unit:
    return Unit(code=code, name=nfc(name), queue=queue or QUEUE_PREFIX + code)
