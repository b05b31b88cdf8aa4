# shellcheck shell=bash disable=SC2153 # settings come from the sourcing script
# Kafka (KRaft) helpers shared by scripts/brokers.sh, secure-brokers.sh and cluster.sh: the
# jars (fetched once by brokers.sh into .cache/), storage format, starting a broker JVM in its
# own session with a pid file, readiness of a single node. Sourced after lib/common.sh.
#
# A single-node script (brokers.sh, secure-brokers.sh) sets KAFKA_DIR, KAFKA_LOGS, KAFKA_CONF,
# KAFKA_PID, KAFKA_HEAP, KAFKA_READY_TIMEOUT, KAFKA_PROBE (what a failed readiness probe means,
# for messages) and defines kafka_answers (the readiness probe).

KAFKA_VERSION=4.1.1
KAFKA_CACHE=$ROOT/.cache/kafka-$KAFKA_VERSION
KAFKA_LIBS=$KAFKA_CACHE/libs
KAFKA_MARKER=$KAFKA_CACHE/.fetched-ok
KAFKA_LOG4J=$ROOT/scripts/kafka-log4j2.properties

# The server.properties lines every single-node KRaft broker of these scripts shares (one
# node is broker and controller; internal topics with one replica); each script adds its
# listeners and its own settings.
kafka_single_node_properties() {
  cat <<EOF
process.roles=broker,controller
node.id=1
controller.listener.names=CONTROLLER
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
log.dirs=$KAFKA_DATA
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
EOF
}

# The marker records the version and the pom's checksum: a changed pom or an interrupted fetch
# (no marker) means fetching again.
kafka_jars_id() { printf '%s %s\n' "$KAFKA_VERSION" "$(sha256sum "$ROOT/scripts/kafka-pom.xml" | cut -d' ' -f1)"; }

kafka_fetch_jars() {
  if [ -d "$KAFKA_LIBS" ] && [ -f "$KAFKA_MARKER" ] && [ "$(cat "$KAFKA_MARKER")" = "$(kafka_jars_id)" ]; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found: run 'make system-deps' (needed once to fetch the Kafka $KAFKA_VERSION jars)"
  log "kafka: fetching Apache Kafka $KAFKA_VERSION jars into $(rel "$KAFKA_LIBS") (once per machine)"
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

# kafka_require_jars PREFIX: die (message starting with PREFIX) unless brokers.sh fetched the jars
kafka_require_jars() {
  [ -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ] ||
    die "${1}no Kafka jars in $KAFKA_LIBS: run 'scripts/brokers.sh up kafka' once to fetch them"
}

# kafka_tool LOGDIR CLASS ARGS...: run a Kafka tool class from the cached jars (small heap)
kafka_tool() {
  local logs=$1
  shift
  java -Xmx256m -Djava.awt.headless=true \
    -Dkafka.logs.dir="$logs" -Dlog4j2.configurationFile="$KAFKA_LOG4J" \
    -cp "$KAFKA_LIBS/*" "$@"
}

# kafka_new_cluster_id LOGDIR: prints a fresh KRaft cluster id (tool errors go to LOGDIR/format.log)
kafka_new_cluster_id() {
  kafka_tool "$1" kafka.tools.StorageTool random-uuid 2>>"$1/format.log" | tail -n1
}

# kafka_format_storage NAME LOGDIR CLUSTER_ID CONF [FORMAT_ARGS...]: format the storage of CONF
# (output to LOGDIR/format.log); on failure show the log and die
kafka_format_storage() {
  local name=$1 logs=$2 id=$3 conf=$4
  shift 4
  kafka_tool "$logs" kafka.tools.StorageTool format -t "$id" -c "$conf" "$@" >>"$logs/format.log" 2>&1 || {
    show_log_tail "$logs/format.log"
    die "$name: formatting the storage failed (see $logs/format.log)"
  }
}

# kafka_spawn NAME DIR PIDFILE HEAP CONF: start the broker of CONF in its own session (logs in
# DIR/logs, console output in DIR/logs/kafka.out) and wait for its pid file
kafka_spawn() {
  local name=$1 dir=$2 pidfile=$3 heap=$4 conf=$5
  rm -f "$pidfile"
  spawn_detached "$dir" "$pidfile" "$dir/logs/kafka.out" kafka \
    java "$heap" -XX:+UseG1GC -Djava.awt.headless=true \
    -Dkafka.logs.dir="$dir/logs" -Dlog4j2.configurationFile="$KAFKA_LOG4J" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$conf"
  wait_pidfile "$pidfile" && [ -n "$(read_pid "$pidfile")" ] ||
    die "$name: the broker process did not start; see $dir/logs/kafka.out"
}

# --- the single node of brokers.sh / secure-brokers.sh -----------------------------------------

# kafka_pid: the pid of our broker, if alive
kafka_pid() { pid_alive "$KAFKA_PID" "kafka.Kafka $KAFKA_CONF"; }

# _kafka_alive_and_answers NAME PID SKIP: kafka_answers, dying if PID exited meanwhile
_kafka_alive_and_answers() {
  local name=$1 pid=$2 skip=$3
  if ! running "$pid"; then
    rm -f "$KAFKA_PID"
    show_log_tail "$KAFKA_LOGS/server.log" 25 "$skip"
    show_log_tail "$KAFKA_LOGS/kafka.out" 10
    die "$name: the broker exited during startup; see $KAFKA_LOGS/server.log and kafka.out"
  fi
  kafka_answers
}

# kafka_wait_ready NAME PID [SKIP]: wait for kafka_answers while PID lives; on failure show the
# server log past its first SKIP lines and die
kafka_wait_ready() {
  local name=$1 pid=$2 skip=${3:-0}
  wait_until $((SECONDS + KAFKA_READY_TIMEOUT)) 0.5 _kafka_alive_and_answers "$name" "$pid" "$skip" && return 0
  show_log_tail "$KAFKA_LOGS/server.log" 25 "$skip"
  die "$name: $KAFKA_PROBE after ${KAFKA_READY_TIMEOUT}s (pid $pid still running); see $KAFKA_LOGS/server.log"
}

# kafka_start NAME: start the configured and formatted node and wait until it answers
kafka_start() {
  local name=$1 skip
  skip=$(line_count "$KAFKA_LOGS/server.log")
  log "$name: starting (logs: $(rel "$KAFKA_LOGS")/server.log)"
  kafka_spawn "$name" "$KAFKA_DIR" "$KAFKA_PID" "$KAFKA_HEAP" "$KAFKA_CONF"
  kafka_wait_ready "$name" "$(read_pid "$KAFKA_PID")" "$skip"
}

# kafka_stop NAME: stop our broker (45 s before KILL)
kafka_stop() { stop_pidfile "$1" "$KAFKA_PID" "kafka.Kafka $KAFKA_CONF" 45; }
