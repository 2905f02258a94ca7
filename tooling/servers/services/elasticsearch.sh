#!/usr/bin/env bash
# Elasticsearch, single node, security off, on 127.0.0.1:$ES_PORT.
# Elastic's "integ-test-zip" distribution from Maven Central (no bundled JDK: 8.x runs on JDK 17, 9.x needs
# 21+). ES refuses to run as root, so as root this runs it as the system user "es" (created here).
# That distribution has no rest-root module (GET / answers 405), no ingest processors, no painless,
# no _reindex / *_by_query: probe with _cluster/health, and build no feature whose tests need those.
#   services/elasticsearch.sh deps|install|start|up|stop|status|reset
set -euo pipefail
SERVICE=elasticsearch
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

ES_USER=${ES_USER:-es}
ZIP=$CACHE_DIR/dist/elasticsearch-$ES_VERSION.zip
BASE=$STATE_DIR/elasticsearch
ES_HOME=$BASE/elasticsearch-$ES_VERSION
PIDF=$BASE/es.pid

deps() {
  command -v mvn >/dev/null || echo maven
  command -v unzip >/dev/null || echo unzip
  command -v curl >/dev/null || echo curl
  java_home "$(need_java)" >/dev/null || echo openjdk-17-jdk-headless
}
need_java() { if [ "${ES_VERSION%%.*}" -ge 9 ]; then echo 21; else echo 17; fi; }
as_es() { if is_root; then runuser -u "$ES_USER" -- "$@"; else "$@"; fi; }

install() {
  if [ ! -f "$ZIP" ]; then
    mvn_run "$MVN_DEP_PLUGIN:copy" \
      -Dartifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip" \
      -DoutputDirectory="$CACHE_DIR/dist"
  fi
  if is_root && ! id "$ES_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$ES_USER"
  fi
  if [ ! -x "$ES_HOME/bin/elasticsearch" ]; then
    command -v unzip >/dev/null || apt_install unzip
    mkdir -p "$BASE"
    rm -rf "$ES_HOME" "$BASE/unpack"
    unzip -q "$ZIP" -d "$BASE/unpack"
    mv "$BASE/unpack/elasticsearch-$ES_VERSION" "$ES_HOME"
    rmdir "$BASE/unpack"
  fi
  mkdir -p "$BASE/data" "$BASE/logs" "$BASE/tmp"
  cat > "$ES_HOME/config/elasticsearch.yml" <<YML
cluster.name: pump-test
node.name: node-1
discovery.type: single-node
network.host: 127.0.0.1
http.port: $ES_PORT
transport.port: $ES_TRANSPORT_PORT
path.data: $BASE/data
path.logs: $BASE/logs
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
ingest.geoip.downloader.enabled: false
YML
  # unknown settings are fatal: write this one only when the module is there (it is in 8.19 and 9.x)
  if [ -d "$ES_HOME/modules/x-pack-security" ]; then echo 'xpack.security.enabled: false' >> "$ES_HOME/config/elasticsearch.yml"; fi
  if [ ! -d "$ES_HOME/modules/ingest-geoip" ]; then sed -i '/^ingest.geoip/d' "$ES_HOME/config/elasticsearch.yml"; fi
  if is_root; then chown -R "$ES_USER": "$BASE"; fi
}

ready() { curl -sf -o /dev/null --max-time 3 "$ES_URL/_cluster/health?wait_for_status=yellow&timeout=2s"; }
running() { pid_from "$PIDF" >/dev/null; }

start() {
  install
  if ! running; then
    local jh; jh=$(java_home "$(need_java)") || { apt_install openjdk-17-jdk-headless; jh=$(java_home "$(need_java)"); }
    rm -f "$PIDF"
    say "elasticsearch $ES_VERSION starting on $jh"
    # -d daemonizes; the launcher returns once the node has started (or failed). setsid gives the node a
    # session of its own: a test that restarts it must not leave it in the test runner's process group,
    # whose end would take the node down with it.
    if ! (cd "$BASE" && as_es setsid -w env ES_JAVA_HOME="$jh" ES_TMPDIR="$BASE/tmp" \
          ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP ${ES_EXTRA_JAVA_OPTS:-}" \
          "$ES_HOME/bin/elasticsearch" -d -p "$PIDF" >"$BASE/launch.log" 2>&1 </dev/null); then
      say "elasticsearch failed to start:" >&2; tail -40 "$BASE/launch.log" >&2; return 1
    fi
  fi
  retry_until 180 elasticsearch ready running || { tail -40 "$BASE/logs/pump-test.log" >&2 || true; return 1; }
  say "elasticsearch ready: $ES_URL (pid $(cat "$PIDF"))"
}

stop() {
  # ES deletes its pid file early in its shutdown: wait on the PID
  local pid; pid=$(pid_from "$PIDF") || { say "elasticsearch stopped"; return 0; }
  stop_pid "$pid" elasticsearch 30
  rm -f "$PIDF"; say "elasticsearch stopped"
}

reset() { rm -rf "$BASE/data"; say "elasticsearch data wiped"; }

service_main "$@"
