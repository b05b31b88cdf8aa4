#!/usr/bin/env bash
# Shows what mqctl sees in the seeded order-system scenario (run by `make demo`, after `make seed`).
# Each command may not exist yet while mqctl is being built: a failure prints a note and the demo
# goes on.
set -uo pipefail
cd "$(dirname "$0")/.."

MQCTL=${MQCTL:-.venv/bin/mqctl}

section() {
  printf '\n=== %s ===\n' "$*"
}

run() {
  section "mqctl $*"
  "$MQCTL" "$@" || echo "(mqctl $* is not available yet, or failed with exit code $?)"
}

bash scripts/brokers.sh status || true

# The management API refreshes queue figures every ~5 s: right after `make seed` they still
# read 0 (and a quorum queue or stream "unknown"). Wait (bounded) until every seeded queue
# shows its messages.
seeded_queues_reported() {
  "$MQCTL" queues list -o json 2>/dev/null | .venv/bin/python -c '
import json, sys
seeded = {"notifications_queue", "notifications_queue.dlq", "payments_queue", "order_events_stream"}
rows = {q["name"]: q for q in json.load(sys.stdin)}
ok = all(n in rows and rows[n]["state"] != "unknown" and rows[n]["messages"] > 0 for n in seeded)
sys.exit(0 if ok else 1)'
}
for _ in $(seq 1 40); do
  seeded_queues_reported && break
  sleep 0.5
done

run topics list
run queues list
run lag
run dlq list

section "next"
cat <<'EOF'
Open the TUI:     .venv/bin/mqctl tui      (or: make tui)
Reset the data:   make seed                (re-runnable; same scenario every time)
Stop the brokers: make brokers-down
EOF
