#!/usr/bin/env bash
# Redis (Debian 12's redis-server 7.0) on 127.0.0.1:$REDIS_PORT: its own config and working folder (the
# packaged /etc/redis and service are not used), runs as the user redis, nothing saved to disk.
#   services/redis.sh deps|install|start|up|stop|status|reset
set -euo pipefail
SERVICE=redis
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

DIR=$STATE_DIR/redis
PIDF=$DIR/redis.pid
CONF=$DIR/redis.conf

deps() { command -v redis-server >/dev/null || echo redis-server; }

install() {
  is_root || die "needs root (redis-server runs as the user redis)"
  command -v redis-server >/dev/null || apt_install redis-server
  command install -d -o redis -g redis -m 750 "$DIR"
  cat > "$CONF" <<CONF
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize no
pidfile $PIDF
dir $DIR
logfile $DIR/redis.log
save ""
appendonly no
CONF
}

# Readiness: PING answered +PONG (what a client's first command gets)
ready() {
  tcp_open "$REDIS_PORT" || return 1
  local ok=1 line
  printf 'PING\r\n' >&3
  if read -r -t 3 line <&3 && [[ $line == "+PONG"* ]]; then ok=0; fi
  tcp_close
  return $ok
}
running() { pid_from "$PIDF" >/dev/null; }
REDIS_PID=
launched_alive() { [ -z "$REDIS_PID" ] || alive "$REDIS_PID"; }

start() {
  install
  if ready; then say "redis ready: $REDIS_URL (already running)"; return 0; fi
  if ! running; then
    # daemonize no keeps it in the foreground: setsid detaches it from this shell
    setsid runuser -u redis -- redis-server "$CONF" >"$DIR/stdout.log" 2>&1 </dev/null &
    REDIS_PID=$!
  fi
  retry_until 20 redis ready launched_alive || { tail -20 "$DIR/redis.log" "$DIR/stdout.log" >&2; return 1; }
  say "redis ready: $REDIS_URL (pid $(cat "$PIDF"))"
}

stop() {
  local pid; pid=$(pid_from "$PIDF") || true
  [ -z "$pid" ] || stop_pid "$pid" redis 10
  rm -f "$PIDF"; say "redis stopped"
}

reset() { stop; say "redis keeps nothing on disk"; }

service_main "$@"
