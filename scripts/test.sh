#!/usr/bin/env bash
# Sets up everything the tests need on a fresh Debian machine, then runs the whole suite:
# static checks (ruff, mypy, import contracts) and unit, integration and end-to-end tests.
# Real parts only: RabbitMQ and PostgreSQL are started here if they are down.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

install_system_tools
start_rabbitmq
start_postgresql
setup_venv

log "static checks"
"$VENV/bin/ruff" check .
"$VENV/bin/mypy"
"$VENV/bin/lint-imports"

log "tests (unit, integration, e2e)"
# PAKN_NO_SKIPS: a test that skips (a missing tool, a service down) fails the run instead of hiding.
PAKN_NO_SKIPS=1 "$VENV/bin/pytest" -q "$@"
