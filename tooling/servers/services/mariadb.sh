#!/usr/bin/env bash
# MariaDB (Debian 12's mariadb-server 10.11) as the MySQL server for mysql2, on 127.0.0.1:$MYSQL_PORT.
# Its own datadir and config (the packaged /etc/mysql and /var/lib/mysql are not used). Database
# $MYSQL_DB and the password user $MYSQL_USER (ALL on *.*, so suites may create their own databases):
# mysql2 cannot log in as root, whose auth is unix_socket, over TCP. Root: `mariadb --defaults-file=<state>/my.cnf`.
#   services/mariadb.sh deps|install|start|up|stop|status|reset
set -euo pipefail
SERVICE=mariadb
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

DIR=$STATE_DIR/mariadb
SOCK=$DIR/mysqld.sock
CNF=$DIR/my.cnf

deps() { command -v mariadbd >/dev/null || echo mariadb-server; }

install() {
  is_root || die "needs root (mariadbd runs as the user mysql)"
  command -v mariadbd >/dev/null || apt_install mariadb-server
  command install -d -o mysql -g mysql "$DIR" "$DIR/data"
  runuser -u mysql -- test -w "$DIR/data" || die "user mysql cannot write $DIR/data"
  cat > "$CNF" <<CNF
[mysqld]
user                 = mysql
datadir              = $DIR/data
socket               = $SOCK
pid-file             = $DIR/mysqld.pid
log-error            = $DIR/error.log
bind-address         = 127.0.0.1
port                 = $MYSQL_PORT
skip-name-resolve
character-set-server = utf8mb4
collation-server     = utf8mb4_general_ci
innodb_buffer_pool_size = 128M
innodb_flush_log_at_trx_commit = 2
max_allowed_packet   = 64M
[client]
socket               = $SOCK
CNF
  if [ ! -d "$DIR/data/mysql" ]; then
    mariadb-install-db --defaults-file="$CNF" --auth-root-authentication-method=socket --skip-test-db \
      >"$DIR/install-db.log" 2>&1 || { cat "$DIR/install-db.log" >&2; return 1; }
  fi
}

socket_up() { mariadb-admin --defaults-file="$CNF" ping >/dev/null 2>&1; }
# Readiness: log in over TCP as the test user and run a query (what mysql2 does)
ready() {
  [ "$(MYSQL_PWD=$MYSQL_PASS mariadb --no-defaults --protocol=TCP -h127.0.0.1 -P"$MYSQL_PORT" -u"$MYSQL_USER" \
       -D"$MYSQL_DB" -N -B -e 'SELECT 1' 2>/dev/null)" = 1 ]
}
running() { pid_from "$DIR/mysqld.pid" >/dev/null || socket_up; }
MYSQLD_PID=
launched_alive() { [ -z "$MYSQLD_PID" ] || alive "$MYSQLD_PID"; }

start() {
  install
  if ready; then say "mariadb ready: $MYSQL_URL (already running)"; return 0; fi
  if ! running; then
    # mariadbd does not daemonize: setsid + nohup detach it from this shell
    setsid nohup mariadbd --defaults-file="$CNF" >"$DIR/stdout.log" 2>&1 </dev/null &
    MYSQLD_PID=$!
  fi
  retry_until 60 mariadb socket_up launched_alive || { tail -40 "$DIR/error.log" >&2; return 1; }
  # idempotent: the test database and the password user
  mariadb --defaults-file="$CNF" -uroot <<SQL
CREATE DATABASE IF NOT EXISTS \`$MYSQL_DB\`;
CREATE USER IF NOT EXISTS '$MYSQL_USER'@'127.0.0.1' IDENTIFIED BY '$MYSQL_PASS';
CREATE USER IF NOT EXISTS '$MYSQL_USER'@'localhost' IDENTIFIED BY '$MYSQL_PASS';
GRANT ALL ON *.* TO '$MYSQL_USER'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL ON *.* TO '$MYSQL_USER'@'localhost' WITH GRANT OPTION;
SQL
  retry_until 10 mariadb ready || return 1
  say "mariadb ready: $MYSQL_URL (pid $(cat "$DIR/mysqld.pid"))"
}

stop() {
  local pid; pid=$(pid_from "$DIR/mysqld.pid") || true
  if socket_up; then mariadb-admin --defaults-file="$CNF" -uroot shutdown >/dev/null 2>&1 || true; fi
  [ -z "$pid" ] || stop_pid "$pid" mariadb 30
  say "mariadb stopped"
}

reset() { rm -rf "$DIR/data"; say "mariadb data wiped"; }

service_main "$@"
