"""What the results were measured on: the soak's machine description, the CPU model, the load."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from soak import machine as soak_machine


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (`uptime`)."""
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    model = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        "?",
    )
    return soak_machine() | {"cpu_model": model}


def quiet_enough(threshold: float) -> bool:
    return os.getloadavg()[0] <= threshold
