# shellcheck shell=bash
# Helpers shared by scripts/brokers.sh, secure-brokers.sh, cluster.sh and redis.sh: messages,
# pid files, stopping by pid with a bounded wait, readiness polling, port checks, status rows.
#
# Sourced, not run. The sourcing script sets before sourcing:
#   SCRIPT_NAME  prefix of error messages (e.g. brokers.sh)
# and this file sets ROOT (the repository), RUN (its .run directory, physical path) and HOST
# (loopback, every service binds only there).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# RUN: pid files, data and logs, by their physical path. A checkout whose .run links to another
# checkout's (a git worktree sharing the brokers) must name a broker's files exactly as the
# checkout that started it: the pid checks match the process's command line, and a mismatch
# made a second checkout drop the pid file of a running broker.
mkdir -p "$ROOT/.run"
RUN=$(cd "$ROOT/.run" && pwd -P)
HOST=127.0.0.1

log() { printf '%s\n' "$*"; }
err() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }
die() {
  err "$*"
  exit 1
}

# require_cmd NAME...: die unless every NAME is on PATH (they come with 'make system-deps')
require_cmd() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || die "$c not found: run 'make system-deps'"
  done
}

# rel PATH: PATH relative to the repository, for messages
rel() { printf '%s' "${1#"$ROOT"/}"; }

# take_lock NAME: one up/down of this script at a time (parallel make targets, several test
# sessions). The lock is on fd 9, which every long-lived child gets closed (9>&-) so a broker
# never inherits it.
take_lock() {
  exec 9>"$RUN/$1.lock"
  flock -w 300 9 || die "another $SCRIPT_NAME is still running (lock .run/$1.lock held for 300 s)"
}

# --- ports ------------------------------------------------------------------------------------

# port_open PORT: something accepts TCP connections on $HOST:PORT
port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# port_owner PORT: a human readable description of who listens on PORT (best effort)
port_owner() {
  local line=""
  if command -v ss >/dev/null 2>&1; then
    line=$(ss -H -ltnp "sport = :$1" 2>/dev/null | head -n1 | tr -s ' ')
  fi
  printf '%s' "${line:-unknown process}"
}

# taken_port PORT...: prints the first PORT something already listens on (status 1: all free)
taken_port() {
  local port
  for port in "$@"; do
    if port_open "$port"; then
      printf '%s' "$port"
      return 0
    fi
  done
  return 1
}

# --- processes and pid files ------------------------------------------------------------------

# running PID: the process exists and is not a zombie
running() {
  local state
  state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# read_pid PIDFILE: the number in PIDFILE (empty if none)
read_pid() { tr -dc '0-9' <"$1" 2>/dev/null || true; }

# pid_alive PIDFILE PATTERN: prints the pid if the file names a live process whose command line
# contains PATTERN (guards against a recycled pid belonging to something else)
pid_alive() {
  local file=$1 pattern=$2 pid
  [ -s "$file" ] || return 1
  pid=$(read_pid "$file")
  [ -n "$pid" ] || return 1
  running "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern" || return 1
  printf '%s' "$pid"
}

# stop_pid PID NAME SECONDS: TERM, wait up to SECONDS, then KILL
stop_pid() {
  local pid=$1 name=$2 secs=$3 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < secs * 5; i++)); do
    running "$pid" || return 0
    sleep 0.2
  done
  err "$name (pid $pid) did not stop within ${secs}s, sending KILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 25; i++)); do
    running "$pid" || return 0
    sleep 0.2
  done
}

# stop_pidfile NAME PIDFILE PATTERN SECONDS: stop the live process of PIDFILE (see pid_alive)
# with stop_pid, then remove the pid file
stop_pidfile() {
  local name=$1 file=$2 pattern=$3 secs=$4 pid
  if pid=$(pid_alive "$file" "$pattern"); then
    log "$name: stopping pid $pid"
    stop_pid "$pid" "$name" "$secs"
    log "$name: stopped"
  else
    log "$name: not running (no live pid in $(rel "$file"))"
  fi
  rm -f "$file"
}

# spawn_detached [--append] DIR PIDFILE OUT NAME CMD...: start CMD in DIR in its own session
# (setsid: a Ctrl-C in the calling terminal or a killed process group of the caller does not
# take it down), output to OUT (appended with --append), lock fd 9 closed. The inner shell
# writes its own pid to PIDFILE, then execs CMD, so PIDFILE names CMD itself.
spawn_detached() {
  local append=0
  if [ "$1" = --append ]; then
    append=1
    shift
  fi
  local dir=$1 pidfile=$2 out=$3 name=$4
  shift 4
  (
    cd "$dir" || exit 1
    if ((append)); then
      exec >>"$out"
    else
      exec >"$out"
    fi
    # shellcheck disable=SC2016 # expanded by the inner shell
    PIDFILE="$pidfile" setsid nohup bash -c 'echo $$ >"$PIDFILE"; exec "$@"' "$name" "$@" \
      </dev/null 2>&1 9>&- &
  )
}

# wait_pidfile PIDFILE: up to 5 s for PIDFILE to be written (status 1 if it was not)
wait_pidfile() {
  local i
  for ((i = 0; i < 50; i++)); do
    [ -s "$1" ] && return 0
    sleep 0.1
  done
  return 1
}

# wait_until DEADLINE INTERVAL CMD...: run CMD every INTERVAL seconds until it succeeds
# (status 0) or $SECONDS reaches DEADLINE (status 1). CMD may die on a fatal condition.
wait_until() {
  local deadline=$1 interval=$2
  shift 2
  while ((SECONDS < deadline)); do
    "$@" && return 0
    sleep "$interval"
  done
  return 1
}

# --- logs -------------------------------------------------------------------------------------

# show_log_tail FILE [LINES] [SKIP]: the last LINES lines of FILE, ignoring its first SKIP lines
# (so that only what this run wrote is shown)
show_log_tail() {
  local file=$1 lines=${2:-25} skip=${3:-0}
  if [ -s "$file" ] && [ "$(wc -l <"$file")" -gt "$skip" ]; then
    err "last lines of $file:"
    tail -n "+$((skip + 1))" "$file" | tail -n "$lines" | sed 's/^/    /' >&2
  else
    err "(nothing logged in $file)"
  fi
}

line_count() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

# --- status -----------------------------------------------------------------------------------

# status_row NAME STATE ADDRESS DETAIL: one line of 'status' (NAME padded to $STATUS_WIDTH)
STATUS_WIDTH=9
status_row() { printf "%-${STATUS_WIDTH}s %-9s %-22s %s\n" "$@"; }

# service_status NAME ADDRESS PORT UP_DETAIL PID_CMD ANSWER_CMD: the status row of a service
# whose pid PID_CMD prints and which is ready when ANSWER_CMD succeeds. When it is down and
# PORT is set, who else listens on PORT is noted.
service_status() {
  local name=$1 addr=$2 port=$3 detail=$4 pid_cmd=$5 answer_cmd=$6 pid note=""
  if pid=$($pid_cmd); then
    if $answer_cmd; then
      status_row "$name" up "$addr" "pid $pid$detail"
    else
      status_row "$name" starting "$addr" "pid $pid (running, not answering)"
    fi
  else
    if [ -n "$port" ] && port_open "$port"; then
      note=" (port taken by another process: $(port_owner "$port"))"
    fi
    status_row "$name" down "$addr" "-$note"
  fi
}
