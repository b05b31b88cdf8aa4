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
# read 0. Wait (bounded) until the seeded queue shows its messages.
for _ in $(seq 1 30); do
  "$MQCTL" queues list -o json 2>/dev/null | grep -q '"ready": [1-9]' && break
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
