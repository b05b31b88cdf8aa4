# shellcheck shell=bash disable=SC2153 # settings come from the sourcing script
# RabbitMQ helpers shared by scripts/brokers.sh (node mqctl@localhost) and secure-brokers.sh
# (node mqctl-secure@localhost): each runs a separate node with its own config, data, logs and
# plugins file under .run/, so a system RabbitMQ (if any) is never touched. Sourced after
# lib/common.sh.
#
# User and Erlang cookie: Debian's /usr/sbin/rabbitmq* wrappers switch to the 'rabbitmq' user
# when run as root, and then use the cookie in /var/lib/rabbitmq/.erlang.cookie. When we are
# root we do the same thing explicitly (runuser -u rabbitmq, HOME=/var/lib/rabbitmq, the node's
# directory owned by rabbitmq), so a plain `rabbitmqctl -n NODE ...` run as root also works.
# As any other user we run the scripts directly as ourselves with HOME=<node dir>/home (our
# own cookie there); use `scripts/brokers.sh rabbitmqctl ...` in that case.
#
# The sourcing script sets before sourcing: RABBIT_LABEL (message prefix), RABBIT_NODE,
# RABBIT_AMQP_PORT, RABBIT_DIST_PORT, RABBIT_DIR, RABBIT_PID, RABBIT_LOGS, RABBIT_READY_TIMEOUT;
# and defines rabbit_api_answers (readiness probe of the management API), rabbit_api_unready
# (prints what failed, for the message) and optionally rabbit_after_boot (run once the node has
# booted, before the API is probed).

RABBIT_BIN=/usr/lib/rabbitmq/bin
if [ ! -x "$RABBIT_BIN/rabbitmq-server" ] && command -v rabbitmq-server >/dev/null 2>&1; then
  RABBIT_BIN=$(dirname "$(readlink -f "$(command -v rabbitmq-server)")")
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
  export RABBITMQ_ENABLED_PLUGINS_FILE=${RABBIT_ENABLED_PLUGINS_FILE:-$RABBIT_DIR/enabled_plugins}
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
  (
    rabbit_env
    if rabbit_as_service_user; then
      cd "$RABBIT_DIR" && "${pre[@]}" runuser -u rabbitmq -- env HOME="$RABBIT_HOME" "$tool" "$@" 9>&-
    else
      mkdir -p "$RABBIT_HOME"
      cd "$RABBIT_DIR" && HOME="$RABBIT_HOME" "${pre[@]}" "$tool" "$@" 9>&-
    fi
  )
}

rabbit_require_server() {
  [ -x "$RABBIT_BIN/rabbitmq-server" ] || die "rabbitmq-server not found: run 'make system-deps'"
}

# rabbit_write_config_from_stdin: writes stdin as the node's rabbitmq.conf (and an empty env file); the
# node's directory then belongs to the broker's user
rabbit_write_config_from_stdin() {
  mkdir -p "$RABBIT_DIR/mnesia" "$RABBIT_LOGS"
  cat >"$RABBIT_DIR/rabbitmq.conf"
  : >"$RABBIT_DIR/rabbitmq-env.conf"
  if rabbit_as_service_user; then
    chown -R rabbitmq:rabbitmq "$RABBIT_DIR"
  fi
}

# rabbit_enable_plugins PLUGIN...: enable them offline (writes only our enabled_plugins file)
rabbit_enable_plugins() {
  if ! rabbit rabbitmq-plugins --offline enable "$@" >"$RABBIT_LOGS/plugins.log" 2>&1; then
    show_log_tail "$RABBIT_LOGS/plugins.log"
    die "$RABBIT_LABEL: enabling the plugins $* failed (see $RABBIT_LOGS/plugins.log)"
  fi
}

# rabbit_enable_missing_plugins PLUGIN...: on a running node, enable online those of PLUGIN...
# that the node is not running (a node started before a plugin was added to the list gets it
# without a restart); all running: nothing changed. The node is asked rather than the file:
# a file listing a plugin the node never applied must not count as done. The node also
# compares the plugins file the CLI names with its own path literally, so a .run reached
# through another symlink (a git worktree's) is refused: name the node's own path.
rabbit_enable_missing_plugins() {
  local plugin active node_file missing=()
  active=$(RABBIT_TIMEOUT=30 rabbit_ctl eval 'rabbit_plugins:active().' 2>/dev/null | tr -cs 'a-z0-9_' '\n') ||
    die "$RABBIT_LABEL: cannot ask node $RABBIT_NODE which plugins it runs"
  for plugin in "$@"; do
    grep -qxF "$plugin" <<<"$active" || missing+=("$plugin")
  done
  ((${#missing[@]})) || return 0
  node_file=$(RABBIT_TIMEOUT=30 rabbit_ctl eval \
    '{ok, F} = application:get_env(rabbit, enabled_plugins_file), io:format("~s~n", [F]), ok.' \
    2>/dev/null | head -1)
  log "$RABBIT_LABEL: enabling the plugins ${missing[*]} on the running node"
  if ! RABBIT_ENABLED_PLUGINS_FILE=${node_file:-$RABBIT_DIR/enabled_plugins} RABBIT_TIMEOUT=120 \
    rabbit rabbitmq-plugins -n "$RABBIT_NODE" enable "${missing[@]}" >"$RABBIT_LOGS/plugins.log" 2>&1; then
    show_log_tail "$RABBIT_LOGS/plugins.log"
    die "$RABBIT_LABEL: enabling the plugins ${missing[*]} failed (see $RABBIT_LOGS/plugins.log)"
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
  die "$RABBIT_LABEL: logs are in $RABBIT_LOGS/ (node log $RABBIT_LOGS/$RABBIT_NODE.log)"
}

# rabbit_ctl ARGS...: rabbitmqctl -q against our node
rabbit_ctl() { rabbit rabbitmqctl -q -n "$RABBIT_NODE" "$@"; }

rabbit_wait_ready() {
  local deadline=$((SECONDS + RABBIT_READY_TIMEOUT)) left
  # await_startup needs the pid file / node to exist first
  wait_until "$deadline" 0.2 test -s "$RABBIT_PID" || true
  left=$((deadline - SECONDS))
  ((left > 0)) || rabbit_fail "$RABBIT_LABEL: node $RABBIT_NODE did not write its pid file within ${RABBIT_READY_TIMEOUT}s"
  if ! RABBIT_TIMEOUT=$left rabbit_ctl await_startup >>"$RABBIT_LOGS/startup.log" 2>&1; then
    rabbit_fail "$RABBIT_LABEL: node $RABBIT_NODE did not finish booting within ${RABBIT_READY_TIMEOUT}s"
  fi
  if declare -F rabbit_after_boot >/dev/null; then rabbit_after_boot; fi
  wait_until "$deadline" 0.5 rabbit_api_answers ||
    rabbit_fail "$RABBIT_LABEL: node is up but $(rabbit_api_unready)"
}

# rabbit_start_node: start the configured node (plugins enabled) detached, wait until it is
# ready and record its beam pid
rabbit_start_node() {
  RABBIT_LOG_SKIP=$(line_count "$RABBIT_LOGS/$RABBIT_NODE.log")
  log "$RABBIT_LABEL: starting node $RABBIT_NODE (logs: $(rel "$RABBIT_LOGS")/)"
  : >"$RABBIT_LOGS/startup.log"
  if rabbit_as_service_user; then
    chown rabbitmq:rabbitmq "$RABBIT_LOGS/startup.log" "$RABBIT_LOGS/plugins.log"
  fi
  if ! rabbit rabbitmq-server -detached >>"$RABBIT_LOGS/startup.log" 2>&1; then
    rabbit_fail "$RABBIT_LABEL: 'rabbitmq-server -detached' failed"
  fi
  rabbit_wait_ready
  # record the beam pid as reported by the node itself (the node writes the same value to
  # RABBITMQ_PID_FILE; this makes sure the file is there and current)
  local pid
  pid=$(rabbit_ctl eval 'list_to_integer(os:getpid()).' 2>/dev/null | tr -dc '0-9' || true)
  if [ -n "$pid" ]; then
    printf '%s\n' "$pid" >"$RABBIT_PID"
  fi
  rabbit_pid >/dev/null || rabbit_fail "$RABBIT_LABEL: node answers but its pid file $RABBIT_PID is not usable"
}

# rabbit_stop_node: 'rabbitmqctl stop', then our pid directly if it is still there
rabbit_stop_node() {
  local pid
  if pid=$(rabbit_pid); then
    log "$RABBIT_LABEL: stopping node $RABBIT_NODE (pid $pid)"
    if ! RABBIT_TIMEOUT=60 rabbit_ctl stop "$RABBIT_PID" >/dev/null 2>&1; then
      err "$RABBIT_LABEL: 'rabbitmqctl stop' failed, stopping pid $pid directly"
    fi
    if running "$pid"; then stop_pid "$pid" "$RABBIT_LABEL" 30; fi
    log "$RABBIT_LABEL: stopped"
  else
    log "$RABBIT_LABEL: not running (no live pid in $(rel "$RABBIT_PID"))"
  fi
  rm -f "$RABBIT_PID"
}
