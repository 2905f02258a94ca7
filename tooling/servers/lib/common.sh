# shellcheck shell=bash
# Shared by servers.sh and services/*.sh: paths, logging, process and apt helpers.
# Sourcing it also sources ../env.sh (ports, credentials, versions).

SERVERS_TOOLING=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_ROOT=$(cd "$SERVERS_TOOLING/../.." && pwd)
# shellcheck source=../env.sh
. "$SERVERS_TOOLING/env.sh"

# .servers/ (git-ignored) holds everything: downloads and builds in cache/, driver logs in logs/,
# each server's config, data and logs in state/<name>/.
PUMP_SERVERS_DIR=${PUMP_SERVERS_DIR:-$REPO_ROOT/.servers}
CACHE_DIR=$PUMP_SERVERS_DIR/cache
LOG_DIR=$PUMP_SERVERS_DIR/logs
export MAVEN_REPO_LOCAL=$CACHE_DIR/m2
export GOMODCACHE=$CACHE_DIR/go/mod GOCACHE=$CACHE_DIR/go/build

is_root() { [ "$(id -u)" = 0 ]; }
say() { printf '%s\n' "$*"; }
die() { printf '%s: %s\n' "${SERVICE:-servers}" "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }
secs_since() { local t=$(( $(now_ms) - $1 )); printf '%d.%01d' $((t / 1000)) $((t % 1000 / 100)); }

# The service users (rabbitmq, mysql, es and the FTP user) must reach their state folders. A repository
# under a folder others cannot traverse (e.g. /root, mode 700) would make every server fail to start, so
# then the state lives in a world-traversable folder under /var/tmp and .servers/state is a symlink to it.
# PUMP_SERVERS_STATE forces a location.
resolve_state_dir() {
  if [ -n "${PUMP_SERVERS_STATE:-}" ]; then STATE_DIR=$PUMP_SERVERS_STATE; mkdir -p "$STATE_DIR"; return; fi
  mkdir -p "$PUMP_SERVERS_DIR"
  local link=$PUMP_SERVERS_DIR/state
  if [ -L "$link" ]; then
    STATE_DIR=$(readlink -f "$link"); mkdir -p "$STATE_DIR"; chmod 755 "$STATE_DIR"; return
  fi
  # decided once, when the state is first made: a live server's data is never moved or deleted here
  if [ -d "$link" ]; then STATE_DIR=$link; return; fi
  mkdir -p "$link"
  if ! is_root || runuser -u nobody -- test -x "$link" 2>/dev/null; then STATE_DIR=$link; return; fi
  local sum; sum=$(printf '%s' "$PUMP_SERVERS_DIR" | cksum | cut -d' ' -f1)
  STATE_DIR=/var/tmp/pump-servers-$sum
  command install -d -m 755 "$STATE_DIR"
  rmdir "$link"
  ln -s "$STATE_DIR" "$link"
  say "note: $PUMP_SERVERS_DIR is not traversable by service users; server state is in $STATE_DIR (.servers/state links there)" >&2
}
resolve_state_dir
mkdir -p "$CACHE_DIR" "$LOG_DIR"

# alive PID: the process exists and is not a zombie. PID 1 here reaps orphans late, so a dead daemon can
# linger as a zombie for a while and `kill -0` would still succeed on it.
alive() { [ -n "${1:-}" ] && [ -e "/proc/$1" ] && ! awk '{exit ($3=="Z")?0:1}' "/proc/$1/stat" 2>/dev/null; }
pid_from() { local p; p=$(cat "$1" 2>/dev/null) && [ -n "$p" ] && alive "$p" && echo "$p"; }
# stop_pid PID NAME [SECONDS]: SIGTERM, wait on the PID itself, SIGKILL after the grace period
stop_pid() {
  local pid=$1 name=$2 grace=${3:-30} i
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do alive "$pid" || return 0; sleep 0.1; done
  say "$name did not stop in ${grace}s: SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do alive "$pid" || return 0; sleep 0.1; done
}
# retry_until SECONDS DESCRIPTION CHECK_FN [ALIVE_FN]: poll CHECK_FN every 0.2 s; fail early when
# ALIVE_FN says the server died
retry_until() {
  local limit=$1 what=$2 check=$3 alive_fn=${4:-true} deadline=$(( $(date +%s) + $1 ))
  until "$check"; do
    "$alive_fn" || { say "$what: the server died while starting" >&2; return 1; }
    [ "$(date +%s)" -lt "$deadline" ] || { say "$what: not ready after ${limit}s" >&2; return 1; }
    sleep 0.2
  done
}

# apt_install PKG...: install the missing ones, non-interactively; `apt-get update` first unless the lists
# are less than an hour old, and again if an install fails on stale lists. Services are never started by
# the packages (policy-rc.d on these machines; the scripts here start them on their own state folders).
apt_missing() { local p; for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"; done; }
apt_install() { ( flock 9 && apt_install_locked "$@" ) 9>"$CACHE_DIR/.apt.lock"; }   # one at a time
apt_install_locked() {
  local missing; missing=$(apt_missing "$@")
  [ -n "$missing" ] || return 0
  is_root || die "needs root to apt-get install: $missing"
  local apt=(apt-get -y -q -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  # The packages must not start their services (they would take our ports with the packaged config):
  # these machines have a policy-rc.d that forbids it; put one in place for the install if not.
  local policy=/usr/sbin/policy-rc.d made_policy=
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; made_policy=1; fi
  local rc=0
  # shellcheck disable=SC2086
  {
    [ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -60 2>/dev/null | head -1)" ] ||
      "${apt[@]}" update
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends $missing ||
      { "${apt[@]}" update && DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends $missing; }
  } </dev/null >&2 || rc=$?
  [ -z "$made_policy" ] || rm -f "$policy"
  return $rc
}

# mvn_run ARGS...: Maven with the repository's cache; one at a time (Maven 3.8 does not lock its local repo)
mvn_run() {
  command -v mvn >/dev/null || apt_install maven
  mkdir -p "$MAVEN_REPO_LOCAL"
  flock "$CACHE_DIR/.mvn.lock" mvn -B -q -Dstyle.color=never -Dmaven.repo.local="$MAVEN_REPO_LOCAL" "$@" </dev/null
}
# shellcheck disable=SC2034 # used by services/*.sh
MVN_DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1   # 2.8 (the default) cannot do ranges

# java_home MAJOR: the lowest installed JDK whose major version is >= MAJOR
java_home() {
  local need=$1 best="" bestmaj=999 d v maj
  for d in ${JAVA_HOME:-} /usr/lib/jvm/*; do
    { [ -x "$d/bin/java" ] && [ -f "$d/release" ]; } || continue
    v=$(sed -n 's/^JAVA_VERSION="\([^"]*\)".*/\1/p' "$d/release"); maj=${v%%.*}
    [ -n "$maj" ] && [ "$maj" -ge "$need" ] && [ "$maj" -lt "$bestmaj" ] && { best=$d; bestmaj=$maj; }
  done
  [ -n "$best" ] || return 1
  readlink -f "$best"
}
ensure_jdk() { java_home 17 >/dev/null || apt_install openjdk-17-jdk-headless; java_home 17; }

# a line on /dev/tcp: open, then the caller reads/writes fd 3
tcp_open() { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null
tcp_close() { exec 3>&- 3<&-; }

# each service script dispatches its verbs with this
service_main() {
  local verb=${1:-}
  case $verb in
    deps) declare -F deps >/dev/null && deps ;;        # prints the apt packages it needs
    install) install && say "$SERVICE: installed" ;;
    start) start ;;
    up) install && start ;;
    stop) stop ;;
    status) if ready; then say "$SERVICE: ready"; else say "$SERVICE: down"; return 1; fi ;;
    reset) stop && reset ;;
    *) say "usage: $0 deps|install|start|up|stop|status|reset" >&2; return 2 ;;
  esac
}
