#!/usr/bin/env bash
# The benchmark suite, one command:  bash bench/run.sh [python -m bench options, e.g. --quick --profile]
# Builds .bench-venv (the project + bench/requirements.txt, from the configured package index) on first
# use or when the requirements change, then prints the tables (about 2 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${BENCH_VENV:-.bench-venv}
STAMP="$VENV/.bench-requirements"
if [ ! -x "$VENV/bin/python" ] || ! cmp -s bench/requirements.txt "$STAMP"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -e . -r bench/requirements.txt
  cp bench/requirements.txt "$STAMP"
fi
export LITELLM_LOCAL_MODEL_COST_MAP=True
exec "$VENV/bin/python" -m bench "$@"
