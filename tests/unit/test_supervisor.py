"""The supervisor of PAKN_WORKERS > 1 stays small: its module loads none of the gateway's heavy parts.

`serve` replaces its own process with the supervisor (`exec_supervisor`) after checking the
configuration, so that what that check loaded (~185 MiB) does not stay in a process that only
supervises. That is worth something only while the module imports little: an import added to it,
or to the settings, logging or TLS modules it uses, that pulls in the application or one of its big
libraries would bring the memory back silently. A fresh interpreter tells what it really loads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import gateway.supervisor
from gateway.supervisor import BOOTSTRAP, MODULE, SYS_PATH_VARIABLE, WORKER_APP, supervisor_command

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
    "jinja2",
    "httpx",
    "prometheus_client",
    "rich",
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


def test_the_new_image_gets_the_parents_sys_path_not_the_working_directorys_packages(tmp_path: Path) -> None:
    # a gateway/ and a config/ folder where the gateway happens to be started: `python -m` would put
    # them first, ahead of the installed packages, in the supervisor and in every worker it spawns
    (tmp_path / "gateway").mkdir()
    (tmp_path / "gateway" / "__init__.py").write_text(
        "raise ImportError('the working directory was imported')\n"
    )
    (tmp_path / "config").mkdir()
    arguments, environment = supervisor_command()
    assert arguments[-2] == "-c" and arguments[-1] == BOOTSTRAP
    run_main = f"from {MODULE} import main; sys.exit(main())"
    assert run_main in BOOTSTRAP
    # the same bootstrap, but it reports where it stands instead of supervising
    report = (
        "import gateway.supervisor as m, config; "
        "print(json.dumps([sys.path, m.__file__, list(config.__path__), "
        f"{SYS_PATH_VARIABLE!r} in os.environ]))"
    )
    probe = [*arguments[:-1], BOOTSTRAP.replace(run_main, report)]
    done = subprocess.run(probe, env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    path, module_file, config_path, still_set = json.loads(done.stdout)
    assert path == sys.path
    assert Path(module_file) == Path(gateway.supervisor.__file__)
    assert str(tmp_path) not in module_file and all(str(tmp_path) not in entry for entry in config_path)
    assert still_set is False  # popped before anything ran: the workers do not inherit it


def test_the_new_image_keeps_the_interpreters_options() -> None:
    code = f"import json; from {MODULE} import supervisor_command; print(json.dumps(supervisor_command()[0]))"
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error::ResourceWarning", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    arguments = json.loads(done.stdout)
    assert arguments[0] == sys.executable
    options = arguments[1:-2]
    assert options[options.index("-X") : options.index("-X") + 2] == ["-X", "dev"]
    assert "-Werror::ResourceWarning" in options or "error::ResourceWarning" in options


def test_the_module_run_on_its_own_refuses_and_starts_nothing(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PAKN_")} | {
        "PAKN_WORKERS": "2",
        "PAKN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db'}",
        "PAKN_PKI_DIR": str(tmp_path / "pki"),
        "PAKN_AMQP_URL": "amqp://guest:guest@127.0.0.1:1/",  # nothing listens: no shared broker touched
    }
    done = subprocess.run(
        [sys.executable, "-m", MODULE],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "chỉ do `pakn-gateway serve` khởi động" in done.stderr  # Vietnamese
    assert "is started by `pakn-gateway serve` only" in done.stderr  # and English
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no database, no PKI
