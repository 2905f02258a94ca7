#!/usr/bin/env bash
# RabbitMQ (Debian 12's rabbitmq-server 3.10, Erlang 25) on 127.0.0.1:$AMQP_PORT, guest/guest on vhost "/".
# No systemd: `rabbitmq-server -detached` on a state folder of its own. Needs root (the Debian wrappers
# re-exec as the user "rabbitmq").
#   services/rabbitmq.sh deps|install|start|up|stop|status|reset
set -euo pipefail
SERVICE=rabbitmq
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

DIR=$STATE_DIR/rabbitmq
export RABBITMQ_NODENAME=rabbit@localhost            # independent of the host name resolving
export RABBITMQ_MNESIA_BASE=$DIR/mnesia
export RABBITMQ_LOG_BASE=$DIR/log
export RABBITMQ_PID_FILE=$DIR/rabbit.pid
export RABBITMQ_CONFIG_FILE=$DIR/rabbitmq.conf
export RABBITMQ_ENABLED_PLUGINS_FILE=$DIR/enabled_plugins
export RABBITMQ_DIST_PORT
export ERL_EPMD_ADDRESS=127.0.0.1                    # epmd on loopback only
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"

deps() { command -v rabbitmq-server >/dev/null || echo rabbitmq-server; }

install() {
  is_root || die "needs root (the Debian package's scripts switch to the user rabbitmq)"
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
  command install -d -o rabbitmq -g rabbitmq "$DIR" "$DIR/mnesia" "$DIR/log"
  runuser -u rabbitmq -- test -w "$DIR/mnesia" || die "user rabbitmq cannot write $DIR/mnesia"
  # Users come from a definitions file loaded at every boot (a rabbitmqctl call costs ~1.2 s each).
  # With definitions, RabbitMQ does not seed guest itself, so guest is listed here.
  # password_hash = base64(salt4 + sha256(salt4 + password)); this one is "guest".
  [ "$AMQP_USER:$AMQP_PASS" = guest:guest ] || die "definitions.json only knows guest/guest; add a hash for $AMQP_USER"
  cat > "$DIR/definitions.json" <<'JSON'
{
  "users": [
    {"name": "guest", "password_hash": "Z3N0MftoRIjzV/jyoA+ww8yNZXigHWBB4UDV440lOHpoIcQI",
     "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": "administrator"}
  ],
  "vhosts": [{"name": "/"}],
  "permissions": [
    {"user": "guest", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}
  ]
}
JSON
  cat > "$DIR/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$AMQP_PORT
loopback_users.guest = true
load_definitions = $DIR/definitions.json
log.console = false
log.file.level = info
CONF
  [ -f "$DIR/enabled_plugins" ] || echo '[].' > "$DIR/enabled_plugins"
  chown rabbitmq:rabbitmq "$DIR/rabbitmq.conf" "$DIR/definitions.json" "$DIR/enabled_plugins"
}

# Readiness: the AMQP 0-9-1 protocol header answered by a Connection.Start method frame
# (frame type 1, channel 0, class 10, method 10).
ready() {
  tcp_open "$AMQP_PORT" || return 1
  printf 'AMQP\x00\x00\x09\x01' >&3
  local head; head=$(timeout 3 head -c 11 <&3 | od -An -v -tx1 | tr -d ' \n') || true
  tcp_close
  [[ $head == 010000????????000a000a ]]
}
node_up() { rabbitmqctl -q status >/dev/null 2>&1; }
running() { pid_from "$DIR/rabbit.pid" >/dev/null; }

start() {
  install
  if ready; then say "rabbitmq ready: $AMQP_URL (already running)"; return 0; fi
  if ! running; then rabbitmq-server -detached </dev/null >/dev/null 2>&1; fi
  # the pid file appears a moment after -detached returns; then wait for the boot to finish
  # (definitions loaded) and for the AMQP listener to answer
  local i
  for ((i = 0; i < 100; i++)); do running && break; sleep 0.1; done
  for ((i = 0; i < 90; i++)); do
    rabbitmqctl -q await_startup --timeout 60 >/dev/null 2>&1 && break
    running || { say "rabbitmq died while starting" >&2; tail -40 "$DIR"/log/*.log >&2; return 1; }
    sleep 0.2
  done
  retry_until 60 rabbitmq ready running || { tail -40 "$DIR"/log/*.log >&2; return 1; }
  say "rabbitmq ready: $AMQP_URL (pid $(cat "$DIR/rabbit.pid"))"
}

stop() {
  if running; then
    local pid; pid=$(cat "$DIR/rabbit.pid")
    # with the pid file, `rabbitmqctl stop` waits until the VM has exited
    rabbitmqctl -q stop "$DIR/rabbit.pid" >/dev/null 2>&1 || stop_pid "$pid" rabbitmq 30
    stop_pid "$pid" rabbitmq 30
  fi
  rm -f "$DIR/rabbit.pid"
  # RabbitMQ leaves epmd (shared by every Erlang node) running: stop it when no node is registered
  if command -v epmd >/dev/null && ! epmd -names 2>/dev/null | grep -q '^name '; then
    epmd -kill >/dev/null 2>&1 || true
  fi
  say "rabbitmq stopped"
}

reset() { rm -rf "$DIR/mnesia"; say "rabbitmq data wiped"; }

service_main "$@"
