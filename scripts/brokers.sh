#!/usr/bin/env bash
# Local brokers for mqctl development and tests, bound to 127.0.0.1 only, owned by this project:
#   Kafka (KRaft, single combined node)  PLAINTEXT 127.0.0.1:9092, controller 127.0.0.1:9093
#   RabbitMQ (own node mqctl@localhost)  AMQP 127.0.0.1:5672, management 127.0.0.1:15672,
#                                        stream 127.0.0.1:5552, Erlang distribution 127.0.0.1:25672
# State lives under .run/ (data, logs, pid files); the Kafka jars are cached under .cache/.
#
# Usage: scripts/brokers.sh up|down|restart|status [kafka|rabbitmq]
#        scripts/brokers.sh rabbitmqctl ARGS...     (rabbitmqctl against our node, right cookie)
#        scripts/brokers.sh logs [kafka|rabbitmq]   (where the logs are)
# Nothing outside our own pid files is ever stopped.
set -euo pipefail

KAFKA_VERSION=4.1.1

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HOST=127.0.0.1

# --- Kafka settings -------------------------------------------------------------------------
KAFKA_PORT=9092
KAFKA_CONTROLLER_PORT=9093
KAFKA_CACHE=$ROOT/.cache/kafka-$KAFKA_VERSION
KAFKA_LIBS=$KAFKA_CACHE/libs
KAFKA_MARKER=$KAFKA_CACHE/.fetched-ok
KAFKA_DIR=$ROOT/.run/kafka
KAFKA_DATA=$KAFKA_DIR/data
KAFKA_LOGS=$KAFKA_DIR/logs
KAFKA_CONF=$KAFKA_DIR/server.properties
KAFKA_PID=$KAFKA_DIR/kafka.pid
KAFKA_LOG4J=$ROOT/scripts/kafka-log4j2.properties
KAFKA_HEAP=${KAFKA_HEAP:--Xmx768m}
KAFKA_READY_TIMEOUT=${KAFKA_READY_TIMEOUT:-90}

# --- RabbitMQ settings ----------------------------------------------------------------------
RABBIT_NODE=mqctl@localhost
RABBIT_AMQP_PORT=5672
RABBIT_MGMT_PORT=15672
RABBIT_STREAM_PORT=5552
RABBIT_DIST_PORT=25672
RABBIT_DIR=$ROOT/.run/rabbitmq
RABBIT_PID=$RABBIT_DIR/rabbitmq.pid
RABBIT_EPMD_PID=$RABBIT_DIR/epmd.pid
RABBIT_LOGS=$RABBIT_DIR/log
RABBIT_READY_TIMEOUT=${RABBIT_READY_TIMEOUT:-90}
RABBIT_PLUGINS="rabbitmq_management rabbitmq_shovel rabbitmq_shovel_management rabbitmq_stream"

log() { printf '%s\n' "$*"; }
err() { printf 'brokers.sh: %s\n' "$*" >&2; }
die() {
  err "$*"
  exit 1
}

# --- generic helpers --------------------------------------------------------------------------

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT
port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# port_owner PORT: a human readable description of who listens on PORT (best effort)
port_owner() {
  local line=""
  if command -v ss >/dev/null 2>&1; then
    line=$(ss -H -ltnp "sport = :$1" 2>/dev/null | head -n1 | tr -s ' ')
  fi
  printf '%s' "${line:-unknown process}"
}

# pid_alive PIDFILE PATTERN: prints the pid if the file names a live process whose command line
# contains PATTERN (guards against a recycled pid belonging to something else)
pid_alive() {
  local file=$1 pattern=$2 pid
  [ -s "$file" ] || return 1
  pid=$(tr -dc '0-9' <"$file")
  [ -n "$pid" ] || return 1
  running "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern" || return 1
  printf '%s' "$pid"
}

# running PID: the process exists and is not a zombie
running() {
  local state
  state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
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

# ==============================================================================================
# Kafka
# ==============================================================================================

# The marker records the version and the pom's checksum: a changed pom or an interrupted fetch
# (no marker) means fetching again.
kafka_jars_id() { printf '%s %s\n' "$KAFKA_VERSION" "$(sha256sum "$ROOT/scripts/kafka-pom.xml" | cut -d' ' -f1)"; }

kafka_fetch_jars() {
  if [ -d "$KAFKA_LIBS" ] && [ -f "$KAFKA_MARKER" ] && [ "$(cat "$KAFKA_MARKER")" = "$(kafka_jars_id)" ]; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found: run 'make system-deps' (needed once to fetch the Kafka $KAFKA_VERSION jars)"
  log "kafka: fetching Apache Kafka $KAFKA_VERSION jars into ${KAFKA_LIBS#"$ROOT"/} (once per machine)"
  local tmp=$KAFKA_CACHE/libs.partial
  rm -rf "$tmp"
  mkdir -p "$KAFKA_CACHE"
  if ! mvn -q -B -Dstyle.color=never -f "$ROOT/scripts/kafka-pom.xml" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" >"$KAFKA_CACHE/fetch.log" 2>&1; then
    rm -rf "$tmp"
    show_log_tail "$KAFKA_CACHE/fetch.log" 40
    die "kafka: fetching the jars with Maven failed (full output: $KAFKA_CACHE/fetch.log); re-run to retry"
  fi
  ls "$tmp"/kafka_2.13-"$KAFKA_VERSION".jar "$tmp"/kafka-tools-"$KAFKA_VERSION".jar >/dev/null 2>&1 ||
    die "kafka: Maven finished but the kafka jars are missing from $tmp"
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
  kafka_jars_id >"$KAFKA_MARKER"
}

kafka_write_config() {
  mkdir -p "$KAFKA_DATA" "$KAFKA_LOGS"
  cat >"$KAFKA_CONF" <<EOF
# Generated by scripts/brokers.sh; edits are overwritten on the next 'up'.
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
log.dirs=$KAFKA_DATA
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
log.retention.hours=168
log.segment.bytes=67108864
num.network.threads=2
num.io.threads=4
EOF
}

# kafka_tool CLASS ARGS...: run a Kafka tool class from the cached jars (small heap)
kafka_tool() {
  java -Xmx256m -Djava.awt.headless=true \
    -Dkafka.logs.dir="$KAFKA_LOGS" -Dlog4j2.configurationFile="$KAFKA_LOG4J" \
    -cp "$KAFKA_LIBS/*" "$@"
}

kafka_format() {
  [ -f "$KAFKA_DATA/meta.properties" ] && return 0
  local id
  id=$(kafka_tool kafka.tools.StorageTool random-uuid 2>>"$KAFKA_LOGS/format.log" | tail -n1)
  [ -n "$id" ] || die "kafka: could not generate a cluster id"
  log "kafka: formatting storage in ${KAFKA_DATA#"$ROOT"/} (cluster id $id)"
  kafka_tool kafka.tools.StorageTool format -t "$id" -c "$KAFKA_CONF" >>"$KAFKA_LOGS/format.log" 2>&1 ||
    {
      show_log_tail "$KAFKA_LOGS/format.log"
      die "kafka: formatting the storage failed"
    }
}

# kafka_answers: a metadata request to 127.0.0.1:9092 succeeds
kafka_answers() {
  if command -v kcat >/dev/null 2>&1; then
    kcat -b "$HOST:$KAFKA_PORT" -L -m 2 >/dev/null 2>&1
  else
    "$ROOT/.venv/bin/python" - "$HOST:$KAFKA_PORT" >/dev/null 2>&1 <<'EOF'
import asyncio, sys
from aiokafka.admin import AIOKafkaAdminClient
async def main():
    admin = AIOKafkaAdminClient(bootstrap_servers=sys.argv[1], request_timeout_ms=2000)
    await admin.start()
    try:
        await admin.list_topics()
    finally:
        await admin.close()
asyncio.run(asyncio.wait_for(main(), 5))
EOF
  fi
}

kafka_wait_ready() {
  local pid=$1 skip=${2:-0} deadline=$((SECONDS + KAFKA_READY_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! running "$pid"; then
      rm -f "$KAFKA_PID"
      show_log_tail "$KAFKA_LOGS/server.log" 25 "$skip"
      show_log_tail "$KAFKA_LOGS/kafka.out" 10
      die "kafka: the broker exited during startup; see $KAFKA_LOGS/server.log and kafka.out"
    fi
    kafka_answers && return 0
    sleep 0.5
  done
  show_log_tail "$KAFKA_LOGS/server.log" 25 "$skip"
  die "kafka: not answering on $HOST:$KAFKA_PORT after ${KAFKA_READY_TIMEOUT}s (pid $pid still running); see $KAFKA_LOGS/server.log"
}

kafka_up() {
  local pid
  if pid=$(pid_alive "$KAFKA_PID" "kafka.Kafka $KAFKA_CONF"); then
    if kafka_answers; then
      log "kafka: already up on $HOST:$KAFKA_PORT (pid $pid)"
      return 0
    fi
    log "kafka: pid $pid is running but not answering yet, waiting"
    kafka_wait_ready "$pid"
    log "kafka: up on $HOST:$KAFKA_PORT (pid $pid)"
    return 0
  fi
  rm -f "$KAFKA_PID"
  local port
  for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    if port_open "$port"; then
      die "kafka: port $HOST:$port is already taken by something this project did not start: $(port_owner "$port"). Stop it (or free the port) and re-run."
    fi
  done
  command -v java >/dev/null 2>&1 || die "java not found: run 'make system-deps'"
  kafka_fetch_jars
  kafka_write_config
  kafka_format
  local skip
  skip=$(line_count "$KAFKA_LOGS/server.log")
  log "kafka: starting (logs: ${KAFKA_LOGS#"$ROOT"/}/server.log)"
  # setsid: own session, so a Ctrl-C in the calling terminal or a killed process group of the
  # caller does not take the broker down. The inner shell writes its own pid, then execs java.
  (
    cd "$KAFKA_DIR"
    KAFKA_PID="$KAFKA_PID" setsid nohup bash -c 'echo $$ >"$KAFKA_PID"; exec "$@"' kafka \
      java "$KAFKA_HEAP" -XX:+UseG1GC -Djava.awt.headless=true \
      -Dkafka.logs.dir="$KAFKA_LOGS" -Dlog4j2.configurationFile="$KAFKA_LOG4J" \
      -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_CONF" \
      </dev/null >"$KAFKA_LOGS/kafka.out" 2>&1 9>&- &
  )
  local i
  for ((i = 0; i < 50; i++)); do
    [ -s "$KAFKA_PID" ] && break
    sleep 0.1
  done
  pid=$(tr -dc '0-9' <"$KAFKA_PID" 2>/dev/null || true)
  [ -n "$pid" ] || die "kafka: the broker process did not start; see $KAFKA_LOGS/kafka.out"
  kafka_wait_ready "$pid" "$skip"
  log "kafka: up on $HOST:$KAFKA_PORT (pid $pid)"
}

kafka_down() {
  local pid
  if pid=$(pid_alive "$KAFKA_PID" "kafka.Kafka $KAFKA_CONF"); then
    log "kafka: stopping pid $pid"
    stop_pid "$pid" kafka 45
    log "kafka: stopped"
  else
    log "kafka: not running (no live pid in ${KAFKA_PID#"$ROOT"/})"
  fi
  rm -f "$KAFKA_PID"
}

kafka_status() {
  local pid
  if pid=$(pid_alive "$KAFKA_PID" "kafka.Kafka $KAFKA_CONF"); then
    if kafka_answers; then
      printf '%-9s %-9s %-22s pid %s\n' kafka up "$HOST:$KAFKA_PORT" "$pid"
    else
      printf '%-9s %-9s %-22s pid %s (running, not answering)\n' kafka starting "$HOST:$KAFKA_PORT" "$pid"
    fi
  else
    local note=""
    port_open "$KAFKA_PORT" && note=" (port taken by another process: $(port_owner "$KAFKA_PORT"))"
    printf '%-9s %-9s %-22s -%s\n' kafka down "$HOST:$KAFKA_PORT" "$note"
  fi
}

# ==============================================================================================
# RabbitMQ
# ==============================================================================================
# A separate node (mqctl@localhost) with its own config, data, logs and plugins file under
# .run/rabbitmq, so a system RabbitMQ (if any) is never touched.
#
# User and Erlang cookie: Debian's /usr/sbin/rabbitmq* wrappers switch to the 'rabbitmq' user
# when run as root, and then use the cookie in /var/lib/rabbitmq/.erlang.cookie. When we are
# root we do the same thing explicitly (runuser -u rabbitmq, HOME=/var/lib/rabbitmq, .run/rabbitmq
# owned by rabbitmq), so a plain `rabbitmqctl -n mqctl@localhost ...` run as root also works.
# As any other user we run the scripts directly as ourselves with HOME=.run/rabbitmq/home (our
# own cookie there); use `scripts/brokers.sh rabbitmqctl ...` in that case.

RABBIT_BIN=/usr/lib/rabbitmq/bin
if [ ! -x "$RABBIT_BIN/rabbitmq-server" ]; then
  if command -v rabbitmq-server >/dev/null 2>&1; then
    RABBIT_BIN=$(dirname "$(readlink -f "$(command -v rabbitmq-server)")")
  fi
fi

rabbit_as_service_user() { [ "$(id -u)" = 0 ] && id rabbitmq >/dev/null 2>&1; }

if rabbit_as_service_user; then
  RABBIT_HOME=$(getent passwd rabbitmq | cut -d: -f6)
  RABBIT_HOME=${RABBIT_HOME:-/var/lib/rabbitmq}
else
  RABBIT_HOME=$RABBIT_DIR/home
fi

rabbit_env() {
  export RABBITMQ_NODENAME=$RABBIT_NODE
  export RABBITMQ_NODE_IP_ADDRESS=$HOST
  export RABBITMQ_NODE_PORT=$RABBIT_AMQP_PORT
  export RABBITMQ_DIST_PORT=$RABBIT_DIST_PORT
  export RABBITMQ_MNESIA_BASE=$RABBIT_DIR/mnesia
  export RABBITMQ_LOG_BASE=$RABBIT_LOGS
  export RABBITMQ_CONFIG_FILE=$RABBIT_DIR/rabbitmq.conf
  export RABBITMQ_ADVANCED_CONFIG_FILE=$RABBIT_DIR/advanced.config
  export RABBITMQ_CONF_ENV_FILE=$RABBIT_DIR/rabbitmq-env.conf
  export RABBITMQ_ENABLED_PLUGINS_FILE=$RABBIT_DIR/enabled_plugins
  export RABBITMQ_PID_FILE=$RABBIT_PID
  # Erlang distribution and epmd on loopback only.
  export ERL_EPMD_ADDRESS=$HOST
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export ERL_CRASH_DUMP=$RABBIT_LOGS/erl_crash.dump
}

# rabbit TOOL ARGS...: run a RabbitMQ CLI script against our node as the right user
# (bounded by $RABBIT_TIMEOUT seconds when set)
rabbit() {
  local tool=$RABBIT_BIN/$1
  shift
  local -a pre=()
  [ -n "${RABBIT_TIMEOUT:-}" ] && pre=(timeout "$RABBIT_TIMEOUT")
  rabbit_env
  if rabbit_as_service_user; then
    (cd "$RABBIT_DIR" && "${pre[@]}" runuser -u rabbitmq -- env HOME="$RABBIT_HOME" "$tool" "$@" 9>&-)
  else
    mkdir -p "$RABBIT_HOME"
    (cd "$RABBIT_DIR" && HOME="$RABBIT_HOME" "${pre[@]}" "$tool" "$@" 9>&-)
  fi
}

rabbit_write_config() {
  mkdir -p "$RABBIT_DIR/mnesia" "$RABBIT_LOGS"
  cat >"$RABBIT_DIR/rabbitmq.conf" <<EOF
# Generated by scripts/brokers.sh; edits are overwritten on the next 'up'.
listeners.tcp.default = $HOST:$RABBIT_AMQP_PORT
management.tcp.ip = $HOST
management.tcp.port = $RABBIT_MGMT_PORT
stream.listeners.tcp.default = $HOST:$RABBIT_STREAM_PORT
stream.advertised_host = $HOST
stream.advertised_port = $RABBIT_STREAM_PORT
log.file.level = info
log.console = false
disk_free_limit.absolute = 50MB
EOF
  : >"$RABBIT_DIR/rabbitmq-env.conf"
  if rabbit_as_service_user; then
    chown -R rabbitmq:rabbitmq "$RABBIT_DIR"
  fi
}

rabbit_api_answers() {
  local url="http://$HOST:$RABBIT_MGMT_PORT/api/overview"
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -m 3 -u guest:guest "$url" >/dev/null 2>&1
  else
    "$ROOT/.venv/bin/python" -c 'import sys, httpx
httpx.get(sys.argv[1], auth=("guest", "guest"), timeout=3).raise_for_status()' "$url" >/dev/null 2>&1
  fi
}

# rabbit_pid: pid of our beam process, if alive. The beam command line does not carry the node
# name, so a live beam.smp whose environment names our node is required.
rabbit_pid() {
  local pid
  pid=$(pid_alive "$RABBIT_PID" beam) || return 1
  tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "RABBITMQ_NODENAME=$RABBIT_NODE" || return 1
  printf '%s' "$pid"
}

RABBIT_LOG_SKIP=0
rabbit_fail() {
  err "$1"
  show_log_tail "$RABBIT_LOGS/$RABBIT_NODE.log" 25 "$RABBIT_LOG_SKIP"
  [ -f "$RABBIT_LOGS/startup.log" ] && show_log_tail "$RABBIT_LOGS/startup.log" 10
  die "rabbitmq: logs are in $RABBIT_LOGS/"
}

rabbit_wait_ready() {
  local deadline=$((SECONDS + RABBIT_READY_TIMEOUT)) left
  # await_startup needs the pid file / node to exist first
  while ((SECONDS < deadline)); do
    [ -s "$RABBIT_PID" ] && break
    sleep 0.2
  done
  left=$((deadline - SECONDS))
  ((left > 0)) || rabbit_fail "rabbitmq: node $RABBIT_NODE did not write its pid file within ${RABBIT_READY_TIMEOUT}s"
  if ! RABBIT_TIMEOUT=$left rabbit rabbitmqctl -q -n "$RABBIT_NODE" await_startup >>"$RABBIT_LOGS/startup.log" 2>&1; then
    rabbit_fail "rabbitmq: node $RABBIT_NODE did not finish booting within ${RABBIT_READY_TIMEOUT}s"
  fi
  while ((SECONDS < deadline)); do
    rabbit_api_answers && return 0
    sleep 0.5
  done
  rabbit_fail "rabbitmq: node is up but the management API http://$HOST:$RABBIT_MGMT_PORT/api/overview does not answer (guest:guest)"
}

# epmd (the Erlang port mapper, 127.0.0.1:4369) would be started implicitly by the node and then
# be nobody's. Start it ourselves (loopback only) with a pid file, unless one is already running
# (a system one, or ours from before): then it is simply used.
rabbit_start_epmd() {
  if pid_alive "$RABBIT_EPMD_PID" epmd >/dev/null; then
    return 0
  fi
  rm -f "$RABBIT_EPMD_PID"
  port_open 4369 && return 0
  command -v epmd >/dev/null 2>&1 || return 0 # erl starts its own then
  (
    cd "$RABBIT_DIR"
    EPMD_PIDFILE="$RABBIT_EPMD_PID" ERL_EPMD_ADDRESS=$HOST setsid nohup \
      bash -c 'echo $$ >"$EPMD_PIDFILE"; exec epmd' </dev/null >>"$RABBIT_LOGS/epmd.log" 2>&1 9>&- &
  )
  local i
  for ((i = 0; i < 50; i++)); do
    port_open 4369 && return 0
    sleep 0.1
  done
  err "rabbitmq: epmd did not start listening on $HOST:4369 (see $RABBIT_LOGS/epmd.log); continuing"
}

rabbit_up() {
  local pid
  if pid=$(rabbit_pid); then
    if rabbit_api_answers; then
      log "rabbitmq: already up on $HOST:$RABBIT_AMQP_PORT, management $HOST:$RABBIT_MGMT_PORT (pid $pid)"
      return 0
    fi
    log "rabbitmq: pid $pid is running but not answering yet, waiting"
    rabbit_wait_ready
    log "rabbitmq: up on $HOST:$RABBIT_AMQP_PORT, management $HOST:$RABBIT_MGMT_PORT (pid $pid)"
    return 0
  fi
  [ -x "$RABBIT_BIN/rabbitmq-server" ] || die "rabbitmq-server not found: run 'make system-deps'"
  local port
  for port in "$RABBIT_AMQP_PORT" "$RABBIT_MGMT_PORT" "$RABBIT_STREAM_PORT" "$RABBIT_DIST_PORT"; do
    if port_open "$port"; then
      die "rabbitmq: port $HOST:$port is already taken by something this project did not start: $(port_owner "$port"). Stop it (e.g. a system RabbitMQ) or free the port, then re-run."
    fi
  done
  rm -f "$RABBIT_PID"
  rabbit_write_config
  # enable the plugins offline (writes only our enabled_plugins file)
  if ! rabbit rabbitmq-plugins --offline enable $RABBIT_PLUGINS >"$RABBIT_LOGS/plugins.log" 2>&1; then
    show_log_tail "$RABBIT_LOGS/plugins.log"
    die "rabbitmq: enabling plugins failed"
  fi
  rabbit_start_epmd
  RABBIT_LOG_SKIP=$(line_count "$RABBIT_LOGS/$RABBIT_NODE.log")
  log "rabbitmq: starting node $RABBIT_NODE (logs: ${RABBIT_LOGS#"$ROOT"/}/)"
  : >"$RABBIT_LOGS/startup.log"
  rabbit_as_service_user && chown rabbitmq:rabbitmq "$RABBIT_LOGS/startup.log"
  if ! rabbit rabbitmq-server -detached >>"$RABBIT_LOGS/startup.log" 2>&1; then
    rabbit_fail "rabbitmq: 'rabbitmq-server -detached' failed"
  fi
  rabbit_wait_ready
  # record the beam pid as reported by the node itself (the node writes the same value to
  # RABBITMQ_PID_FILE; this makes sure the file is there and current)
  pid=$(rabbit rabbitmqctl -q -n "$RABBIT_NODE" eval 'list_to_integer(os:getpid()).' 2>/dev/null | tr -dc '0-9' || true)
  if [ -n "$pid" ]; then
    printf '%s\n' "$pid" >"$RABBIT_PID"
  fi
  pid=$(rabbit_pid) || rabbit_fail "rabbitmq: node answers but its pid file $RABBIT_PID is not usable"
  log "rabbitmq: up on $HOST:$RABBIT_AMQP_PORT, management $HOST:$RABBIT_MGMT_PORT, stream $HOST:$RABBIT_STREAM_PORT (pid $pid)"
}

rabbit_down() {
  local pid
  if pid=$(rabbit_pid); then
    log "rabbitmq: stopping node $RABBIT_NODE (pid $pid)"
    if ! RABBIT_TIMEOUT=60 rabbit rabbitmqctl -q -n "$RABBIT_NODE" stop "$RABBIT_PID" >/dev/null 2>&1; then
      err "rabbitmq: 'rabbitmqctl stop' failed, stopping pid $pid directly"
    fi
    if running "$pid"; then stop_pid "$pid" rabbitmq 30; fi
    log "rabbitmq: stopped"
  else
    log "rabbitmq: not running (no live pid in ${RABBIT_PID#"$ROOT"/})"
  fi
  rm -f "$RABBIT_PID"
  # the epmd we started, if no other Erlang node registered with it meanwhile
  local epmd
  if epmd=$(pid_alive "$RABBIT_EPMD_PID" epmd); then
    if ! ERL_EPMD_ADDRESS=$HOST epmd -names 2>/dev/null | grep -q '^name '; then
      stop_pid "$epmd" epmd 5
    fi
  fi
  rm -f "$RABBIT_EPMD_PID"
}

rabbit_status() {
  local pid
  if pid=$(rabbit_pid); then
    if rabbit_api_answers; then
      printf '%-9s %-9s %-22s pid %s (node %s, management %s:%s)\n' rabbitmq up "$HOST:$RABBIT_AMQP_PORT" "$pid" "$RABBIT_NODE" "$HOST" "$RABBIT_MGMT_PORT"
    else
      printf '%-9s %-9s %-22s pid %s (running, not answering)\n' rabbitmq starting "$HOST:$RABBIT_AMQP_PORT" "$pid"
    fi
  else
    local note=""
    port_open "$RABBIT_AMQP_PORT" && note=" (port taken by another process: $(port_owner "$RABBIT_AMQP_PORT"))"
    printf '%-9s %-9s %-22s -%s\n' rabbitmq down "$HOST:$RABBIT_AMQP_PORT" "$note"
  fi
}

# ==============================================================================================

usage() {
  cat >&2 <<EOF
usage: scripts/brokers.sh up|down|restart|status [kafka|rabbitmq]
       scripts/brokers.sh rabbitmqctl ARGS...
       scripts/brokers.sh logs
EOF
  exit 2
}

cmd=${1:-}
[ -n "$cmd" ] || usage
shift

if [ "$cmd" = rabbitmqctl ]; then
  rabbit rabbitmqctl -n "$RABBIT_NODE" "$@"
  exit $?
fi

what=${1:-all}
case "$what" in
all) targets=(kafka rabbit) ;;
kafka) targets=(kafka) ;;
rabbitmq | rabbit) targets=(rabbit) ;;
*) usage ;;
esac

# one up/down at a time (parallel make targets, several test sessions). The lock is on fd 9,
# which every long-lived child gets closed (9>&-) so a broker never inherits the lock.
case "$cmd" in
up | down | restart)
  mkdir -p "$ROOT/.run"
  exec 9>"$ROOT/.run/brokers.lock"
  if ! flock -w 300 9; then
    die "another 'brokers.sh' is still running (lock $ROOT/.run/brokers.lock held for 300 s)"
  fi
  ;;
esac

case "$cmd" in
up)
  for t in "${targets[@]}"; do "${t}_up"; done
  ;;
down)
  for t in "${targets[@]}"; do "${t}_down"; done
  ;;
restart)
  for t in "${targets[@]}"; do "${t}_down"; done
  for t in "${targets[@]}"; do "${t}_up"; done
  ;;
status)
  for t in "${targets[@]}"; do "${t}_status"; done
  ;;
logs)
  echo "kafka:    $KAFKA_LOGS/server.log"
  echo "rabbitmq: $RABBIT_LOGS/$RABBIT_NODE.log"
  ;;
*) usage ;;
esac
