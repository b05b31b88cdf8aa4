#!/usr/bin/env bash
# Local Redis for the Redis Streams plugin (plugins/mqctl-redis-streams), bound to 127.0.0.1 only
# and owned by this project: Debian's redis-server on 127.0.0.1:6379, state under .run/redis/.
#
# Usage: scripts/redis.sh up|down|restart|status
# Idempotent; nothing outside our own pid file is ever stopped.
set -euo pipefail

SCRIPT_NAME=redis.sh
# shellcheck source=scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

REDIS_PORT=${REDIS_PORT:-6379}
REDIS_DIR=$RUN/redis
REDIS_PID=$REDIS_DIR/redis.pid
REDIS_LOG=$REDIS_DIR/redis.log
REDIS_READY_TIMEOUT=${REDIS_READY_TIMEOUT:-30}

# redis_pid: prints the pid from our pid file if it is a live redis-server on our port
redis_pid() { pid_alive "$REDIS_PID" "redis-server $HOST:$REDIS_PORT"; }

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

redis_ready() { redis_pid >/dev/null && redis_answers; }

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
    require_cmd redis-server
    mkdir -p "$REDIS_DIR"
    log "redis: starting (log: $(rel "$REDIS_LOG"))"
    # no RDB snapshots or AOF: test data only; protected mode stays on (loopback only anyway)
    redis-server --port "$REDIS_PORT" --bind "$HOST" --daemonize yes \
      --pidfile "$REDIS_PID" --dir "$REDIS_DIR" --logfile "$REDIS_LOG" \
      --save "" --appendonly no </dev/null >/dev/null 2>&1 ||
      {
        [ -f "$REDIS_LOG" ] && tail -n 20 "$REDIS_LOG" >&2
        die "redis: redis-server failed to start"
      }
  fi
  if wait_until $((SECONDS + REDIS_READY_TIMEOUT)) 0.2 redis_ready; then
    log "redis: up on $HOST:$REDIS_PORT (pid $(redis_pid))"
    return 0
  fi
  [ -f "$REDIS_LOG" ] && tail -n 20 "$REDIS_LOG" >&2
  die "redis: not answering on $HOST:$REDIS_PORT after ${REDIS_READY_TIMEOUT}s; see $REDIS_LOG"
}

redis_down() { stop_pidfile redis "$REDIS_PID" "redis-server $HOST:$REDIS_PORT" 10; }

redis_status() { service_status redis "$HOST:$REDIS_PORT" "$REDIS_PORT" "" redis_pid redis_answers; }

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
