#!/bin/bash
# quickstart.sh -- from a fresh Debian 12 machine to a running server.
#
# Run as root from the top of the source tree:  bash tools/quickstart.sh
#
# Installs the build dependencies, builds, installs into ./local, creates
# the user cyrus, writes ./local/etc/imapd.conf and cyrus.conf (databases
# and spool under ./local/var), creates a demo user with a random password
# in a sasldb, and starts master in the background on 127.0.0.1:143 (set
# IMAP_PORT to use another port).  Re-running stops the running instance
# first, rebuilds, and starts again; the demo password is kept.
#
# Environment: IMAP_PORT (default 143), QUICKSTART_SKIP_APT=1,
# QUICKSTART_JOBS (default 2).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
LOCAL=$TOP/local
BUILD=$TOP/build
ETC=$LOCAL/etc
VAR=$LOCAL/var
PORT=${IMAP_PORT:-143}
JOBS=${QUICKSTART_JOBS:-2}
DEMO_USER=demo
PIDFILE=$VAR/run/master.pid
LOG=$VAR/log/master.log

say() { printf '\n>>> %s\n' "$*"; }
die() { printf 'quickstart: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run me as root (I install packages and create the user cyrus)"

stop_running() {
    [ -f "$PIDFILE" ] || return 0
    local pid
    pid=$(head -n 1 "$PIDFILE" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        say "stopping the running master (pid $pid)"
        kill -TERM "$pid"
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "master did not stop within 10s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$PIDFILE"
}

install_packages() {
    say "installing build dependencies"
    # cyrus-clients (for imtest) pulls in cyrus-common and an MTA; keep their
    # daemons from starting: they would take ports 25 and 143.
    local policy=/usr/sbin/policy-rc.d made_policy=
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy"
        chmod 755 "$policy"
        made_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends \
        build-essential autoconf automake libtool pkg-config \
        libssl-dev libsasl2-dev libsasl2-modules libsasl2-modules-db sasl2-bin \
        libdb5.3-dev libicu-dev zlib1g-dev python3 openssl cyrus-clients
    [ -z "$made_policy" ] || rm -f "$policy"
}

build_and_install() {
    say "building into $BUILD, installing into $LOCAL"
    if [ ! -x "$TOP/configure" ] || [ "$TOP/configure.ac" -nt "$TOP/configure" ]; then
        (cd "$TOP" && autoreconf -fi)
    fi
    mkdir -p "$BUILD"
    if [ ! -f "$BUILD/Makefile" ]; then
        (cd "$BUILD" && "$TOP/configure" -q --prefix="$LOCAL")
    fi
    make -C "$BUILD" -j"$JOBS" >/dev/null
    make -C "$BUILD" install >/dev/null
}

# The services run as cyrus: it must be able to reach ./local.  A checkout
# under a private directory (e.g. /root) gets traverse-only access for cyrus.
make_reachable() {
    local d=$LOCAL
    while [ "$d" != / ]; do
        d=$(dirname "$d")
        if ! runuser -u cyrus -- test -x "$d"; then
            if command -v setfacl >/dev/null; then
                setfacl -m u:cyrus:x "$d"
            else
                chmod o+x "$d"
            fi
            echo "note: gave user cyrus traverse (x) access to $d"
        fi
    done
}

write_config() {
    say "writing $ETC/imapd.conf and $ETC/cyrus.conf"
    mkdir -p "$ETC" "$VAR/lib" "$VAR/spool" "$VAR/run" "$VAR/log"
    if [ ! -f "$ETC/server.key" ]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj /CN=localhost \
            -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
            -keyout "$ETC/server.key" -out "$ETC/server.crt" 2>/dev/null
    fi
    cat > "$ETC/imapd.conf" <<EOF
# imapd.conf written by tools/quickstart.sh; see imapd.conf(5).
configdirectory: $VAR/lib
partition-default: $VAR/spool
servername: $(hostname)
admins: admin
# Demo setting: plaintext passwords over an unencrypted local connection.
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $ETC/sasldb2
sasl_mech_list: PLAIN LOGIN
tls_server_cert: $ETC/server.crt
tls_server_key: $ETC/server.key
altnamespace: yes
unixhierarchysep: yes
# A user's INBOX is created at first login (no quota limit).
autocreate_quota: 0
syslog_prefix: quickstart
master_pid_file: $PIDFILE
EOF
    cat > "$ETC/cyrus.conf" <<EOF
# cyrus.conf written by tools/quickstart.sh; see cyrus.conf(5).
START {
  recover cmd="ctl_cyrusdb -r -C $ETC/imapd.conf"
}

SERVICES {
  imap cmd="imapd -C $ETC/imapd.conf" listen="127.0.0.1:$PORT" prefork=1
  lmtpunix cmd="lmtpd -C $ETC/imapd.conf" listen="$VAR/lib/socket/lmtp" prefork=0
}
EOF
}

make_demo_user() {
    local passfile=$ETC/demo-password
    if [ ! -s "$passfile" ]; then
        head -c 12 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' > "$passfile"
        chmod 600 "$passfile"
    fi
    tr -d '\n' < "$passfile" | saslpasswd2 -p -c -f "$ETC/sasldb2" -u "$(hostname)" "$DEMO_USER"
}

port_in_use() {
    ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q .
}

start_master() {
    say "starting master on 127.0.0.1:$PORT"
    if port_in_use; then
        die "port $PORT is already in use (another IMAP server?); set IMAP_PORT"
    fi
    # -D keeps master in the foreground and copies every log line to
    # stderr, which goes to the log file; setsid detaches it from this shell.
    setsid nohup "$LOCAL/libexec/master" -C "$ETC/imapd.conf" -M "$ETC/cyrus.conf" \
        -p "$PIDFILE" -D >>"$LOG" 2>&1 < /dev/null &
    for _ in $(seq 1 100); do
        port_in_use && return 0
        sleep 0.1
    done
    tail -n 20 "$LOG" >&2
    die "master did not start listening on port $PORT; see $LOG"
}

stop_running
[ "${QUICKSTART_SKIP_APT:-0}" = 1 ] || install_packages
if ! getent passwd cyrus >/dev/null; then
    say "creating user cyrus"
    useradd --system --gid mail --home-dir /var/spool/cyrus --no-create-home \
        --shell /usr/sbin/nologin cyrus
fi
build_and_install
write_config
make_demo_user
chown -R cyrus:mail "$VAR" "$ETC"
chmod 640 "$ETC/server.key" "$ETC/sasldb2"
make_reachable
start_master

IMTEST=$(command -v imtest || echo /usr/lib/cyrus/bin/imtest)
cat <<EOF

The server is running (pid $(head -n 1 "$PIDFILE" 2>/dev/null || echo '?'); log: $LOG).

  demo user:  $DEMO_USER
  password:   $(cat "$ETC/demo-password")
  connect:    $IMTEST -p $PORT -a $DEMO_USER -w '$(cat "$ETC/demo-password")' -m PLAIN 127.0.0.1
  with TLS:   openssl s_client -starttls imap -connect 127.0.0.1:$PORT -crlf -quiet

Stop it with:  kill \$(head -n 1 $PIDFILE)
EOF
