#!/usr/bin/env bash
# InfluxDB 1.8 on 127.0.0.1:$INFLUX_PORT, auth off, database $INFLUX_DB created at start.
# influxd is built with `go install github.com/influxdata/influxdb/cmd/influxd@v$INFLUXDB_VERSION` through
# the Go module proxy (pure Go + cgo for sqlite in Flux; ~70 s cold, seconds with the cache in
# .servers/cache/go). 1.8 serves the 1.x API (/query, /write, /ping) and the 2.x compatibility endpoints
# @influxdata/influxdb-client uses: POST /api/v2/write (bucket "db/retention-policy", org ignored,
# token ignored while auth is off), /health, and POST /api/v2/query (Flux, enabled here).
#   services/influxdb.sh deps|install|start|up|stop|status|reset
set -euo pipefail
SERVICE=influxdb
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

INFLUXD=$CACHE_DIR/bin/influxd-$INFLUXDB_VERSION
DIR=$STATE_DIR/influxdb
PIDF=$DIR/influxd.pid

deps() {
  command -v go >/dev/null || [ -x /usr/local/go/bin/go ] || echo golang-go
  command -v gcc >/dev/null || printf '%s\n' gcc libc6-dev
  command -v curl >/dev/null || echo curl
}

install() {
  [ -x "$INFLUXD" ] && return 0
  [ -x /usr/local/go/bin/go ] && PATH=$PATH:/usr/local/go/bin
  command -v go >/dev/null || apt_install golang-go
  command -v gcc >/dev/null || apt_install gcc libc6-dev
  local bin=$CACHE_DIR/go/bin
  mkdir -p "$bin" "$CACHE_DIR/bin"
  say "building influxd $INFLUXDB_VERSION with $(go version)"
  # -modcacherw: a module cache that `rm -rf` can remove. The ldflags only set what `influxd version`
  # and the X-Influxdb-Version header report.
  # nice: on 2 cores the build would otherwise slow down the JVMs starting beside it
  GOBIN=$bin GO111MODULE=on CGO_ENABLED=1 GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=local nice -n 10 \
    go install -ldflags "-X main.version=$INFLUXDB_VERSION -X main.branch=$INFLUXDB_VERSION -X main.commit=go-install" \
    "github.com/influxdata/influxdb/cmd/influxd@v$INFLUXDB_VERSION" </dev/null
  mv "$bin/influxd" "$INFLUXD"
  "$INFLUXD" version
}

ready() { curl -sf -o /dev/null --max-time 3 "$INFLUX_URL/ping"; }
running() { pid_from "$PIDF" >/dev/null; }

start() {
  install
  mkdir -p "$DIR/meta" "$DIR/data" "$DIR/wal"
  if ! running; then
    cat > "$DIR/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$INFLUX_RPC_PORT"
[meta]
  dir = "$DIR/meta"
[data]
  dir = "$DIR/data"
  wal-dir = "$DIR/wal"
  query-log-enabled = false
  index-version = "inmem"
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:$INFLUX_PORT"
  auth-enabled = false
  log-enabled = false
  flux-enabled = true
  pprof-enabled = false
[continuous_queries]
  enabled = false
CONF
    setsid "$INFLUXD" run -config "$DIR/influxdb.conf" -pidfile "$PIDF" >"$DIR/influxd.log" 2>&1 </dev/null &
    echo $! > "$PIDF"
  fi
  retry_until 60 influxdb ready running || { tail -30 "$DIR/influxd.log" >&2; return 1; }
  # the round-trip that makes it usable: create the database (idempotent) through /query
  curl -sf --max-time 10 -XPOST "$INFLUX_URL/query" --data-urlencode "q=CREATE DATABASE \"$INFLUX_DB\"" >/dev/null
  say "influxdb ready: $INFLUX_URL bucket $INFLUX_BUCKET (pid $(cat "$PIDF"))"
}

stop() {
  local pid; pid=$(pid_from "$PIDF") || true
  [ -z "$pid" ] || stop_pid "$pid" influxd 30
  rm -f "$PIDF"; say "influxdb stopped"
}

reset() { rm -rf "$DIR/meta" "$DIR/data" "$DIR/wal"; say "influxdb data wiped"; }

service_main "$@"
