"""The provinces a report counts by: the 34 provinces and cities in force since 1 July 2025.

Their codes and names come from the kept `vietnam-provinces` package (data of 2025); the codes of
the 29 provinces merged away map to the unit they joined (config/provinces_2025.yaml, from
Nghị quyết 202/2025/QH15). A petition's `ProvinceCode` may be either: "1", "01" and "001" are one
code. Anything else — no address, no code, a code that never existed — counts as "Không xác định".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from vietnam_provinces import Province

from gateway.routing_config import default_config_dir
from gateway.startup_errors import StartupError

FILE = "provinces_2025.yaml"
CURRENT_COUNT = 34


@dataclass(frozen=True)
class Provinces:
    names: Mapping[str, str]  # current code ("01") → name ("Thành phố Hà Nội"), in code order
    merged: Mapping[str, str]  # old code → current code

    def current(self, code: str | None) -> str | None:
        """The current code a petition's ProvinceCode counts under, or None when unknown."""
        if code is None or not code.strip().isdigit():
            return None
        normal = f"{int(code):02d}"
        if normal in self.names:
            return normal
        return self.merged.get(normal)


def load_provinces(directory: Path | None = None) -> Provinces:
    names = {f"{int(p.code):02d}": p.name for p in sorted(Province.iter_all(), key=lambda p: int(p.code))}
    if len(names) != CURRENT_COUNT:
        raise StartupError(
            f"vietnam-provinces lists {len(names)} provinces, not the {CURRENT_COUNT} of 2025: upgrade it"
        )
    path = directory / FILE if directory is not None and (directory / FILE).exists() else None
    path = path or default_config_dir() / FILE
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        merged = {f"{int(old):02d}": f"{int(new):02d}" for old, new in (doc.get("merged") or {}).items()}
    except (OSError, yaml.YAMLError, ValueError, TypeError, AttributeError) as exc:
        raise StartupError(f"{path}: {exc}") from exc
    wrong = sorted(new for new in merged.values() if new not in names)
    if wrong:
        raise StartupError(f"{path}: merged into codes that are not current provinces: {', '.join(wrong)}")
    still = sorted(old for old in merged if old in names)
    if still:
        raise StartupError(f"{path}: current province codes listed as merged: {', '.join(still)}")
    return Provinces(names, merged)
