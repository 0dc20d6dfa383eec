"""Due dates at acceptance (the portal's DueAt wins), flags, reminder windows, and the config that
feeds them: refused when wrong, with the file and the entry named."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from gateway.deadlines.config import load_policy
from gateway.domain.deadlines import DueFlag, DueSource, Threshold
from gateway.domain.petition import Kind
from gateway.domain.working_days import VIETNAM
from gateway.intake_samples import NOTHING  # noqa: F401  (placeholder removed below)
