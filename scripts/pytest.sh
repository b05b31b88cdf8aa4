#!/usr/bin/env bash
# Runs the suite. pytest exits 5 when it collected no test: for us that is a broken suite, not
# a pass, so it is reported as a failure with a clear message.
set -uo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: treating as failure" >&2
  exit 1
fi
exit "$rc"
