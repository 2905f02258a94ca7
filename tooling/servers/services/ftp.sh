#!/usr/bin/env bash
# FTP (Debian 12's vsftpd 3.0.3) on 127.0.0.1:$FTP_PORT, passive mode on loopback (ports
# $FTP_PASV_MIN-$FTP_PASV_MAX). A local user $FTP_USER/$FTP_PASS is chrooted into <state>/ftp/home,
# which is writable and holds the sample files of tooling/servers/fixtures/ftp under samples/.
#   services/ftp.sh deps|install|start|up|stop|status|reset
set -euo pipefail
SERVICE=ftp
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

DIR=$STATE_DIR/ftp
HOME_DIR=$DIR/home
PIDF=$DIR/vsftpd.pid

deps() { command -v vsftpd >/dev/null || echo vsftpd; }

install() {
  is_root || die "needs root (vsftpd logs local users in)"
  command -v vsftpd >/dev/null || apt_install vsftpd
  command install -d -m 755 "$DIR"
  # a local user (root is refused through /etc/ftpusers); PAM wants its shell listed in /etc/shells
  if id "$FTP_USER" >/dev/null 2>&1; then
    [ "$(getent passwd "$FTP_USER" | cut -d: -f6)" = "$HOME_DIR" ] || usermod -d "$HOME_DIR" "$FTP_USER"
  else
    useradd --no-create-home --home-dir "$HOME_DIR" --shell /bin/bash "$FTP_USER"
  fi
  echo "$FTP_USER:$FTP_PASS" | chpasswd
  command install -d -o "$FTP_USER" -g "$FTP_USER" -m 755 "$HOME_DIR"
  runuser -u "$FTP_USER" -- test -w "$HOME_DIR" || die "user $FTP_USER cannot write $HOME_DIR"
  # the test files every suite can read: samples/ (restored at each start)
  rm -rf "$HOME_DIR/samples"
  cp -r "$SERVERS_TOOLING/fixtures/ftp" "$HOME_DIR/samples"
  chown -R "$FTP_USER:$FTP_USER" "$HOME_DIR/samples"
  command install -d -m 755 /var/run/vsftpd/empty            # secure_chroot_dir; /run starts empty
  cat > "$DIR/vsftpd.conf" <<CONF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$FTP_PORT
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
local_root=$HOME_DIR
chroot_local_user=YES
allow_writeable_chroot=YES
pasv_enable=YES
pasv_address=127.0.0.1
pasv_min_port=$FTP_PASV_MIN
pasv_max_port=$FTP_PASV_MAX
port_enable=YES
secure_chroot_dir=/var/run/vsftpd/empty
pam_service_name=vsftpd
seccomp_sandbox=NO
utf8_filesystem=YES
xferlog_enable=YES
vsftpd_log_file=$DIR/vsftpd.log
dual_log_enable=YES
xferlog_file=$DIR/xferlog
CONF
}

# Readiness: greeting 220, USER -> 331, PASS -> 230 (a real login)
ready() {
  tcp_open "$FTP_PORT" || return 1
  local ok=1 line
  if read -r -t 3 line <&3 && [[ $line == 220* ]]; then
    printf 'USER %s\r\n' "$FTP_USER" >&3
    if read -r -t 3 line <&3 && [[ $line == 331* ]]; then
      printf 'PASS %s\r\n' "$FTP_PASS" >&3
      if read -r -t 5 line <&3 && [[ $line == 230* ]]; then ok=0; fi
    fi
    printf 'QUIT\r\n' >&3
  fi
  tcp_close
  return $ok
}
running() { pid_from "$PIDF" >/dev/null; }

start() {
  install
  if ! running; then
    # background=NO keeps vsftpd in the foreground: setsid detaches it and $! is its pid
    setsid vsftpd "$DIR/vsftpd.conf" >"$DIR/stdout.log" 2>&1 </dev/null &
    echo $! > "$PIDF"
  fi
  retry_until 20 ftp ready running || { cat "$DIR/stdout.log" >&2; return 1; }
  say "ftp ready: $FTP_URL (pid $(cat "$PIDF"))"
}

stop() {
  local pid; pid=$(pid_from "$PIDF") || true
  if [ -n "$pid" ]; then
    stop_pid "$pid" vsftpd 10
    kill -TERM -- "-$pid" 2>/dev/null || true   # session children still connected (same process group)
  fi
  rm -f "$PIDF"; say "ftp stopped"
}

reset() { rm -rf "$HOME_DIR"; say "ftp files wiped"; }

service_main "$@"
