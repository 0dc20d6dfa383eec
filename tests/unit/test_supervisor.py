"""The supervisor of PAKN_WORKERS > 1 stays small: its module loads none of the gateway's heavy parts.

`serve` replaces its own process with `python -m gateway.supervisor` after checking the
configuration, so that what that check loaded (~185 MiB) does not stay in a process that only
supervises. That is worth something only while the module imports little: an import added to it,
or to the settings, logging or TLS modules it uses, that pulls in the application or one of its big
libraries would bring the memory back silently. A fresh interpreter tells what it really loads.
"""

from __future__ import annotations

import json
import subprocess
import sys

from gateway.supervisor import MODULE, WORKER_APP

# each of these alone is 5-45 MiB here (BENCHMARKS.md, issue 7, ninth round), and all come with the app
HEAVY = (
    "gateway.app",
    "gateway.workers",
    "connectors",
    "signing",
    "sqlalchemy",
    "alembic",
    "fastapi",
    "zeep",
    "lxml",
    "signxml",
    "pyhanko",
    "reportlab",
    "openpyxl",
    "aio_pika",
    "cryptography",
)

PROBE = f"""
import json, sys
import {MODULE}
print(json.dumps(sorted({{name.split(".")[0] if not name.startswith("gateway.") else name
                         for name in sys.modules}})))
"""


def loaded_by(code: str) -> set[str]:
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    return set(json.loads(done.stdout))


def test_the_supervisor_module_loads_none_of_the_gateways_heavy_parts() -> None:
    loaded = loaded_by(PROBE)
    assert MODULE in loaded  # the probe did import it
    assert "uvicorn" in loaded and "gateway.settings" in loaded  # what it does need
    assert sorted(loaded & set(HEAVY)) == []


def test_the_probe_sees_a_heavy_import_when_there_is_one() -> None:
    # the check above could pass for a probe that reports nothing: the same probe after the worker's
    # module must name the application and its libraries
    loaded = loaded_by(PROBE.replace(f"import {MODULE}", f"import {MODULE}, gateway.workers"))
    assert {"gateway.app", "gateway.workers", "sqlalchemy", "zeep", "lxml", "signxml"} <= loaded


def test_the_workers_run_the_application_factory_of_the_workers_module() -> None:
    module, _, name = WORKER_APP.partition(":")
    assert (module, name) == ("gateway.workers", "app_from_environment")
    import gateway.workers

    assert callable(getattr(gateway.workers, name))
