#!/usr/bin/env bash
# Local Redis for the Redis Streams plugin (plugins/mqctl-redis-streams), bound to 127.0.0.1 only
# and owned by this project: Debian's redis-server on 127.0.0.1:6379, state under .run/redis/.
#
# Usage: scripts/redis.sh up|down|restart|status
# Idempotent; nothing outside our own pid file is ever stopped.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HOST=127.0.0.1
REDIS_PORT=${REDIS_PORT:-6379}
REDIS_DIR=$ROOT/.run/redis
REDIS_PID=$REDIS_DIR/redis.pid
REDIS_LOG=$REDIS_DIR/redis.log
REDIS_READY_TIMEOUT=${REDIS_READY_TIMEOUT:-30}

log() { printf '%s\n' "$*"; }
err() { printf 'redis.sh: %s\n' "$*" >&2; }
die() {
  err "$*"
  exit 1
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

port_owner() {
  local line=""
  if command -v ss >/dev/null 2>&1; then
    line=$(ss -H -ltnp "sport = :$1" 2>/dev/null | head -n1 | tr -s ' ')
  fi
  printf '%s' "${line:-unknown process}"
}

running() {
  local state
  state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# redis_pid: prints the pid from our pid file if it is a live redis-server on our port
redis_pid() {
  local pid
  [ -s "$REDIS_PID" ] || return 1
  pid=$(tr -dc '0-9' <"$REDIS_PID")
  [ -n "$pid" ] || return 1
  running "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "redis-server $HOST:$REDIS_PORT" || return 1
  printf '%s' "$pid"
}

# redis_answers: PING gets PONG (redis-cli when present, else a raw RESP exchange)
redis_answers() {
  if command -v redis-cli >/dev/null 2>&1; then
    [ "$(redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]
  else
    local reply
    exec 3<>"/dev/tcp/$HOST/$REDIS_PORT" 2>/dev/null || return 1
    printf 'PING\r\n' >&3
    read -r -t 2 reply <&3 || true
    exec 3<&- 3>&-
    [ "${reply%$'\r'}" = "+PONG" ]
  fi
}

redis_up() {
  local pid
  if pid=$(redis_pid); then
    if redis_answers; then
      log "redis: already up on $HOST:$REDIS_PORT (pid $pid)"
      return 0
    fi
  else
    rm -f "$REDIS_PID"
    if port_open "$REDIS_PORT"; then
      die "redis: port $HOST:$REDIS_PORT is already taken by something this project did not start: $(port_owner "$REDIS_PORT"). Stop it (e.g. a system redis-server) or free the port, then re-run."
    fi
    command -v redis-server >/dev/null 2>&1 || die "redis-server not found: run 'make system-deps'"
    mkdir -p "$REDIS_DIR"
    log "redis: starting (log: ${REDIS_LOG#"$ROOT"/})"
    # no RDB snapshots or AOF: test data only; protected mode stays on (loopback only anyway)
    redis-server --port "$REDIS_PORT" --bind "$HOST" --daemonize yes \
      --pidfile "$REDIS_PID" --dir "$REDIS_DIR" --logfile "$REDIS_LOG" \
      --save "" --appendonly no </dev/null >/dev/null 2>&1 ||
      {
        [ -f "$REDIS_LOG" ] && tail -n 20 "$REDIS_LOG" >&2
        die "redis: redis-server failed to start"
      }
  fi
  local deadline=$((SECONDS + REDIS_READY_TIMEOUT))
  while ((SECONDS < deadline)); do
    if pid=$(redis_pid) && redis_answers; then
      log "redis: up on $HOST:$REDIS_PORT (pid $pid)"
      return 0
    fi
    sleep 0.2
  done
  [ -f "$REDIS_LOG" ] && tail -n 20 "$REDIS_LOG" >&2
  die "redis: not answering on $HOST:$REDIS_PORT after ${REDIS_READY_TIMEOUT}s; see $REDIS_LOG"
}

redis_down() {
  local pid i
  if pid=$(redis_pid); then
    log "redis: stopping pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      running "$pid" || break
      sleep 0.1
    done
    if running "$pid"; then
      err "redis (pid $pid) did not stop within 10s, sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    log "redis: stopped"
  else
    log "redis: not running (no live pid in ${REDIS_PID#"$ROOT"/})"
  fi
  rm -f "$REDIS_PID"
}

redis_status() {
  local pid
  if pid=$(redis_pid); then
    if redis_answers; then
      printf '%-9s %-9s %-22s pid %s\n' redis up "$HOST:$REDIS_PORT" "$pid"
    else
      printf '%-9s %-9s %-22s pid %s (running, not answering)\n' redis starting "$HOST:$REDIS_PORT" "$pid"
    fi
  else
    local note=""
    port_open "$REDIS_PORT" && note=" (port taken by another process: $(port_owner "$REDIS_PORT"))"
    printf '%-9s %-9s %-22s -%s\n' redis down "$HOST:$REDIS_PORT" "$note"
  fi
}

case "${1:-}" in
up) redis_up ;;
down) redis_down ;;
restart)
  redis_down
  redis_up
  ;;
status) redis_status ;;
*)
  echo "usage: scripts/redis.sh up|down|restart|status" >&2
  exit 2
  ;;
esac
