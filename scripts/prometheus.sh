#!/usr/bin/env bash
# A Prometheus server on loopback scraping mqctl's exporter (`mqctl exporter`, `mqctl lag
# --serve`), for the scrape test and for trying the alerting rules of docs/alerts.yml.
# Debian's `prometheus` package (scripts/system-deps.sh); state under .run/prometheus/.
#
# Usage: scripts/prometheus.sh up|down|status
# Settings (environment): PROM_PORT (default 9390), PROM_TARGETS (comma-separated HOST:PORT
# of exporters, default 127.0.0.1:9308), PROM_DIR (config, data, pid and log; default
# .run/prometheus), PROM_RULES (a rules file to load, default none), PROM_SCRAPE (scrape
# interval, default 2s). Only the process of our own pid file is ever stopped.
set -euo pipefail

SCRIPT_NAME=prometheus.sh
# shellcheck source=scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

PROM_PORT=${PROM_PORT:-9390}
PROM_TARGETS=${PROM_TARGETS:-127.0.0.1:9308}
PROM_DIR=${PROM_DIR:-$RUN/prometheus}
PROM_RULES=${PROM_RULES:-}
PROM_SCRAPE=${PROM_SCRAPE:-2s}
PROM_PID=$PROM_DIR/prometheus.pid
PROM_LOG=$PROM_DIR/prometheus.log
PROM_CONF=$PROM_DIR/prometheus.yml
PROM_READY_TIMEOUT=${PROM_READY_TIMEOUT:-60}
STATUS_WIDTH=12

prom_pid() { pid_alive "$PROM_PID" "--web.listen-address=$HOST:$PROM_PORT"; }

prom_ready() { curl -fsS -m 2 "http://$HOST:$PROM_PORT/-/ready" >/dev/null 2>&1; }

write_config() {
  local targets="" t
  IFS=, read -ra list <<<"$PROM_TARGETS"
  for t in "${list[@]}"; do targets+="'$t', "; done
  {
    echo "global:"
    echo "  scrape_interval: $PROM_SCRAPE"
    echo "  evaluation_interval: $PROM_SCRAPE"
    if [ -n "$PROM_RULES" ]; then
      echo "rule_files: ['$PROM_RULES']"
    fi
    echo "scrape_configs:"
    echo "  - job_name: mqctl"
    echo "    static_configs:"
    echo "      - targets: [${targets%, }]"
  } >"$PROM_CONF"
}

prom_up() {
  local pid
  if pid=$(prom_pid); then
    log "prometheus: already up on $HOST:$PROM_PORT (pid $pid)"
    return 0
  fi
  rm -f "$PROM_PID"
  port_open "$PROM_PORT" && die "prometheus: port $HOST:$PROM_PORT is taken: $(port_owner "$PROM_PORT")"
  require_cmd prometheus
  mkdir -p "$PROM_DIR/data"
  write_config
  log "prometheus: starting on $HOST:$PROM_PORT, scraping $PROM_TARGETS (log: $(rel "$PROM_LOG"))"
  spawn_detached "$PROM_DIR" "$PROM_PID" "$PROM_LOG" prometheus \
    prometheus --config.file="$PROM_CONF" --storage.tsdb.path="$PROM_DIR/data" \
    --web.listen-address="$HOST:$PROM_PORT" --storage.tsdb.retention.time=1d
  wait_pidfile "$PROM_PID" || die "prometheus: no pid file written"
  if wait_until $((SECONDS + PROM_READY_TIMEOUT)) 0.5 prom_ready; then
    log "prometheus: up on http://$HOST:$PROM_PORT (pid $(read_pid "$PROM_PID"))"
    return 0
  fi
  tail -n 20 "$PROM_LOG" >&2 || true
  die "prometheus: not ready after ${PROM_READY_TIMEOUT}s; see $PROM_LOG"
}

prom_down() { stop_pidfile prometheus "$PROM_PID" "--web.listen-address=$HOST:$PROM_PORT" 20; }

prom_status() { service_status prometheus "$HOST:$PROM_PORT" "$PROM_PORT" "" prom_pid prom_ready; }

case "${1:-}" in
up) prom_up ;;
down) prom_down ;;
status) prom_status ;;
*)
  echo "usage: scripts/prometheus.sh up|down|status" >&2
  exit 2
  ;;
esac
