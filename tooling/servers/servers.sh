#!/usr/bin/env bash
# Real servers for the connector tests, on 127.0.0.1, without Docker.
#
#   tooling/servers/servers.sh up [name...]       install what is missing, start, wait until each answers
#                                                 a real protocol round-trip (all by default, in parallel)
#   tooling/servers/servers.sh down [name...]     stop (all by default)
#   tooling/servers/servers.sh status [name...]   probe each one
#   tooling/servers/servers.sh env                print `export VAR=...` lines:  eval "$(tooling/servers/servers.sh env)"
#   tooling/servers/servers.sh install [name...]  only install / download / build (no start)
#   tooling/servers/servers.sh restart [name...]  down, then up (data kept)
#   tooling/servers/servers.sh reset [name...]    stop and wipe the data
#   tooling/servers/servers.sh logs [name...]     where each one's logs are
#
# names: kafka elasticsearch (es) rabbitmq (amqp) mariadb (mysql) ftp influxdb (influx) redis
# Ports, credentials and versions: tooling/servers/env.sh. State, logs, caches: .servers/ (git-ignored).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

ALL=(kafka elasticsearch rabbitmq mariadb ftp influxdb redis)
SVC=$SERVERS_TOOLING/services

names() {
  local n out=()
  [ $# -gt 0 ] || { echo "${ALL[@]}"; return; }
  for n in "$@"; do
    case $n in
      kafka) out+=(kafka) ;;
      es|elastic|elasticsearch) out+=(elasticsearch) ;;
      rabbit|rabbitmq|amqp) out+=(rabbitmq) ;;
      mysql|mariadb) out+=(mariadb) ;;
      ftp|vsftpd) out+=(ftp) ;;
      influx|influxdb) out+=(influxdb) ;;
      redis) out+=(redis) ;;
      all) out+=("${ALL[@]}") ;;
      *) die "unknown server '$n' (known: ${ALL[*]})" ;;
    esac
  done
  printf '%s\n' "${out[@]}" | awk '!seen[$0]++' | tr '\n' ' '
}

# run VERB on the services in parallel, one driver log each in .servers/logs/<name>.log;
# services whose apt packages are missing wait for one apt-get for all of them
run_parallel() {
  local verb=$1; shift
  local n pkgs=() now=() later=() pids=() fail=0 t0 i deps
  t0=$(now_ms)
  for n in "$@"; do
    if [ "$verb" = up ] || [ "$verb" = install ]; then
      deps=$("$SVC/$n.sh" deps || true)
      if [ -n "$deps" ]; then later+=("$n"); mapfile -t d <<<"$deps"; pkgs+=("${d[@]}"); continue; fi
    fi
    now+=("$n")
  done
  launch() {
    local n=$1
    # the job times itself: the loop below reaps the jobs in order, not as they finish
    (
      s=$(now_ms); rc=0
      "$SVC/$n.sh" "$verb" >"$LOG_DIR/$n.log" 2>&1 </dev/null || rc=$?
      secs_since "$s" >"$LOG_DIR/$n.time"
      exit $rc
    ) &
    pids+=($!)
  }
  for n in "${now[@]}"; do launch "$n"; done
  local order=("${now[@]}")
  if [ ${#later[@]} -gt 0 ]; then
    local ta; ta=$(now_ms)
    say "apt-get install ${pkgs[*]} (for ${later[*]})"
    if apt_install "${pkgs[@]}" >"$LOG_DIR/apt.log" 2>&1; then
      say "  apt done in $(secs_since "$ta")s"
    else
      say "  apt-get failed, see $LOG_DIR/apt.log:" >&2; tail -20 "$LOG_DIR/apt.log" >&2
    fi
    for n in "${later[@]}"; do launch "$n"; done
    order+=("${later[@]}")
  fi
  for i in "${!order[@]}"; do
    n=${order[$i]}
    if wait "${pids[$i]}"; then
      printf '  %-14s %-8s in %5ss  %s\n' "$n" ok "$(cat "$LOG_DIR/$n.time")" "$(tail -1 "$LOG_DIR/$n.log" | sed 's/\x1b\[[0-9;]*m//g')"
    else
      fail=1
      printf '  %-14s %-8s in %5ss  (log: %s)\n' "$n" FAILED "$(cat "$LOG_DIR/$n.time")" "$LOG_DIR/$n.log" >&2
      tail -25 "$LOG_DIR/$n.log" | sed 's/^/      | /' >&2
    fi
  done
  say "$verb: ${*} — $(secs_since "$t0")s"
  return $fail
}

cmd=${1:-help}; shift || true
case $cmd in
  up|start)
    list=$(names "$@") || exit 2; read -r -a sel <<<"$list"
    run_parallel up "${sel[@]}"
    ;;
  install)
    list=$(names "$@") || exit 2; read -r -a sel <<<"$list"
    run_parallel install "${sel[@]}"
    ;;
  down|stop)
    list=$(names "$@") || exit 2; read -r -a sel <<<"$list"
    run_parallel stop "${sel[@]}"
    ;;
  restart)
    list=$(names "$@") || exit 2; read -r -a sel <<<"$list"
    run_parallel stop "${sel[@]}" && run_parallel up "${sel[@]}"
    ;;
  reset)
    list=$(names "$@") || exit 2; read -r -a sel <<<"$list"
    run_parallel reset "${sel[@]}"
    ;;
  status)
    list=$(names "$@") || exit 2; read -r -a sel <<<"$list"
    rc=0
    for n in "${sel[@]}"; do "$SVC/$n.sh" status || rc=1; done
    exit $rc
    ;;
  env)
    for v in $PUMP_SERVER_VARS; do printf "export %s='%s'\n" "$v" "${!v}"; done
    ;;
  logs)
    list=$(names "$@") || exit 2; read -r -a sel <<<"$list"
    for n in "${sel[@]}"; do printf '%-14s %s  (driver: %s)\n' "$n" "$STATE_DIR/$n" "$LOG_DIR/$n.log"; done
    ;;
  help|-h|--help)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
    ;;
  *) die "unknown command '$cmd' (up, down, restart, status, env, install, reset, logs)" ;;
esac
