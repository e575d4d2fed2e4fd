#!/usr/bin/env sh
# Thin entry for schedulers: one turn of the daily cycle (enqueue what is due and work it off;
# pass --enqueue-only where worker processes run). Settings come from the environment (or an
# .env file next to the project, if present).
set -eu
cd "$(dirname "$0")/.."
if [ -f .env ]; then set -a; . ./.env; set +a; fi
exec node bin/daybreak.js tick "$@"
