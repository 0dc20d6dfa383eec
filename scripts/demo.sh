#!/usr/bin/env bash
# Sets up the gateway and runs its main job on embedded defaults: SQLite, a development PKI, the
# gateway and the national portal simulator, petitions pushed and followed into the unit queues.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

start_rabbitmq
setup_venv
"$VENV/bin/pakn-gateway" demo "$@"
