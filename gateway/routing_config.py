"""Loads config/ (units, fields, routing rules) into the domain's RoutingTable, with clear errors."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from gateway.domain.errors import RoutingConfigError
from gateway.domain.petition import Kind, SenderType
from gateway.domain.routing import FieldOfWork, RoutingTable, Rule, make_unit
from gateway.domain.text import nfc


@dataclass(frozen=True)
class Ministry:
    organ_id: str
    name: str
    short_name: str
    place: str


@dataclass(frozen=True)
class GatewayConfig:
    ministry: Ministry
    routing: RoutingTable


def default_config_dir() -> Path:
    return Path(str(resources.files("config")))


def load_config(directory: Path | None = None) -> GatewayConfig:
    base = directory or default_config_dir()
    units_doc = _read(base / "units.yaml")
    fields_doc = _read(base / "fields.yaml")
    rules_doc = _read(base / "routing.yaml")
    try:
        m = units_doc["ministry"]
        ministry = Ministry(m["id"], nfc(m["name"]), nfc(m.get("short_name", m["name"])), nfc(m["place"]))
        units = [make_unit(u["code"], u["name"], u.get("queue")) for u in units_doc["units"]]
        fields = [FieldOfWork(f["code"], nfc(f["name"])) for f in fields_doc["fields"]]
        rules = tuple(_rule(r) for r in rules_doc["rules"])
        triage = units_doc["triage"]
    except (KeyError, TypeError) as exc:
        raise RoutingConfigError(f"{base}: missing or malformed entry {exc}") from exc
    _no_duplicates("unit", [u.code for u in units])
    _no_duplicates("field", [f.code for f in fields])
    table = RoutingTable(
        units={u.code: u for u in units},
        fields={f.code: f for f in fields},
        rules=rules,
        triage=triage,
    )
    return GatewayConfig(ministry=ministry, routing=table)


def _rule(doc: dict[str, Any]) -> Rule:
    try:
        return Rule(
            unit=doc["unit"],
            fields=frozenset(doc.get("fields", [])),
            kinds=frozenset(Kind(k) for k in doc.get("kinds", [])),
            sender_types=frozenset(SenderType(s) for s in doc.get("sender_types", [])),
        )
    except ValueError as exc:
        raise RoutingConfigError(f"routing rule {doc}: {exc}") from exc


def _no_duplicates(what: str, codes: list[str]) -> None:
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        raise RoutingConfigError(f"duplicate {what} codes: {', '.join(dupes)}")


def _read(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RoutingConfigError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise RoutingConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise RoutingConfigError(f"{path}: expected a mapping at the top")
    return doc
