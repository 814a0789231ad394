#!/usr/bin/env bash
# install.sh — idempotent provisioning of marketplaced on a Debian/Ubuntu host.
#
#   sudo ./install.sh                 full install; start the systemd service when systemd is PID 1
#   sudo ./install.sh --no-service    full install, but do not install/start the systemd unit
#   ./install.sh --test [-- ARGS]     provision what the test suite needs and run it (ARGS go to pytest)
#
# Safe to re-run: existing secrets, config and databases are kept; only what is missing is added.
set -Eeuo pipefail
umask 022 # the venv, wrapper and unit must be readable by the service user; secrets get explicit modes

REPO="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"

# Production locations (the systemd unit and the README name the same paths). Plain variables,
# not readonly, so tests can source this file and point them elsewhere.
APP_NAME=marketplaced
SERVICE_USER=marketplaced
ETC_DIR=/etc/marketplaced
ENV_FILE=$ETC_DIR/marketplaced.env
CONFIG_FILE=$ETC_DIR/marketplaced.toml
PREFIX=/opt/marketplaced
VENV=$PREFIX/venv
WRAPPER=/usr/local/bin/marketplaced
STATE_DIR=/var/lib/marketplaced
UNIT_DIR=/etc/systemd/system
PG_CONF_ROOT=/etc/postgresql # Debian's cluster configs: PG_CONF_ROOT/VERSION/CLUSTER/conf.d
PG_TUNING_FILE=50-marketplaced.conf
DB_NAME=marketplaced
DB_ROLE=marketplaced

# Test-mode resources: own role (CREATEDB: tests make a fresh database per module), own Redis db index.
TEST_ROLE=marketplaced_test
TEST_ENV_FILE=$REPO/.env.test
TEST_VENV=$REPO/.venv
TEST_REDIS_DB=15

REDIS_PORT=6379
MIN_PYTHON=3.11

MODE=install # install | no-service | test
PG_TUNING=1  # 0: --no-pg-tuning
PYTEST_ARGS=()
STEP="starting"
APT_UPDATED=0
SCRIPT_START=$SECONDS
PG_VERSION="" PG_CLUSTER="" PG_PORT="" PG_DATA=""

# ---------------------------------------------------------------------------------------------
# output and failure handling
# ---------------------------------------------------------------------------------------------
if [ -t 1 ]; then BOLD=$'\e[1m' RED=$'\e[31m' RESET=$'\e[0m'; else BOLD="" RED="" RESET=""; fi

step() {
  STEP="$1"
  printf '\n%s==> %s%s  [t+%ss]\n' "$BOLD" "$STEP" "$RESET" "$((SECONDS - SCRIPT_START))"
}
info() { printf '    %s\n' "$*"; }
die() {
  printf '%sinstall.sh: error: %s%s\n' "$RED" "$*" "$RESET" >&2
  trap - ERR
  exit 1
}
usage_error() {
  printf 'install.sh: %s (see ./install.sh --help)\n' "$*" >&2
  trap - ERR
  exit 2
}
on_err() {
  local rc=$1 line=$2 cmd=$3
  trap - ERR
  printf '%sinstall.sh: FAILED in step "%s" (line %s, exit %s): %s%s\n' \
    "$RED" "$STEP" "$line" "$rc" "$cmd" "$RESET" >&2
  exit "$rc"
}
trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR

usage() {
  cat <<EOF
Usage: install.sh [--no-pg-tuning] [--no-service | --test [-- PYTEST_ARGS...]]

Provision marketplaced on this Debian/Ubuntu host. Safe to re-run.

  (no flag)      Install PostgreSQL and Redis, create the database role and database,
                 write secrets to $ENV_FILE (0600, generated once),
                 install the package into $VENV, the wrapper $WRAPPER,
                 the config $CONFIG_FILE (only if absent), apply migrations, and install
                 and start the systemd unit (when systemd is PID 1; otherwise print how to
                 run the daemon in the foreground). Needs root.
  --no-service   Everything above except installing/starting the systemd unit.
  --test         Provision what the test suite needs (PostgreSQL, Redis, Chromium, role
                 $TEST_ROLE, .env.test, the dev venv .venv) and run ruff, mypy and
                 pytest. Arguments after -- are passed to pytest. Does not touch
                 /opt, /etc/marketplaced or systemd (PostgreSQL's settings: as below).
  --no-pg-tuning Do not write PostgreSQL's settings for this workload (by default, once:
                 $PG_CONF_ROOT/VERSION/CLUSTER/conf.d/$PG_TUNING_FILE, sized to this
                 host's memory, then a restart of the cluster; an existing file is kept).
  -h, --help     Show this help.
EOF
}

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --test) MODE=test ;;
      --no-service) MODE=no-service ;;
      --no-pg-tuning) PG_TUNING=0 ;;
      -h | --help) usage; exit 0 ;;
      --) shift; PYTEST_ARGS=("$@"); break ;;
      *) usage_error "unknown argument: $1" ;;
    esac
    shift
  done
  if [ ${#PYTEST_ARGS[@]} -gt 0 ] && [ "$MODE" != test ]; then
    usage_error "arguments after -- are pytest arguments and only valid with --test"
  fi
}

# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
is_root() { [ "$(id -u)" -eq 0 ]; }

# Privileged commands: directly as root; through sudo for a developer running --test as themselves.
as_root() {
  if is_root; then "$@"; else sudo -- "$@"; fi
}

systemd_is_pid1() {
  [ -d /run/systemd/system ] || [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]
}

gen_secret() {
  if command -v openssl >/dev/null 2>&1; then
    openssl rand -hex 24
  else
    python3 -c 'import secrets; print(secrets.token_hex(24))'
  fi
}

# Value of KEY in a KEY=VALUE file (no shell evaluation), or empty.
env_get() {
  local file=$1 key=$2
  [ -r "$file" ] || return 0
  sed -n "s/^${key}=//p" "$file" | tail -n 1 | tr -d "\"'"
}

quietly() { # quietly CMD... — output goes to a log that is shown only when CMD fails
  local log
  log=$(mktemp)
  if ! "$@" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    rm -f "$log"
    die "command failed (last lines above): $*"
  fi
  rm -f "$log"
}

python_ok() { # python_ok PYTHON -> true when it is >= MIN_PYTHON and can create venvs
  "$1" -c "import sys, venv, ensurepip; sys.exit(sys.version_info < (${MIN_PYTHON/./, }))" 2>/dev/null
}

psql_admin() { # run SQL from stdin as the postgres superuser, stopping at the first error
  as_root runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres "$@"
}

# ---------------------------------------------------------------------------------------------
# stages
# ---------------------------------------------------------------------------------------------
apt_install() { # apt_install PKG... — installs only the missing ones; apt-get update at most once
  local missing=() pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    info "already installed: $*"
    return 0
  fi
  command -v apt-get >/dev/null || die "apt-get not found: this script supports Debian/Ubuntu only (missing: ${missing[*]})"
  export DEBIAN_FRONTEND=noninteractive
  if [ "$APT_UPDATED" -eq 0 ]; then
    info "apt-get update"
    quietly as_root apt-get -o DPkg::Lock::Timeout=300 update
    APT_UPDATED=1
  fi
  info "installing: ${missing[*]}"
  quietly as_root apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${missing[@]}" </dev/null
}

install_packages() {
  step "System packages"
  local pkgs=(postgresql redis-server python3 python3-venv openssl ca-certificates)
  if [ "$MODE" = test ]; then
    pkgs+=(chromium chromium-driver) # browser tests of the dashboard
  fi
  apt_install "${pkgs[@]}"
}

detect_pg_cluster() {
  local line
  line=$(pg_lsclusters -h 2>/dev/null | sort -V -k1,1 | tail -n 1 || true)
  if [ -z "$line" ]; then
    local ver
    ver=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$ver" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
    info "no PostgreSQL cluster found: creating $ver/main"
    as_root pg_createcluster "$ver" main >/dev/null
    line=$(pg_lsclusters -h | sort -V -k1,1 | tail -n 1)
  fi
  read -r PG_VERSION PG_CLUSTER PG_PORT _ _ PG_DATA _ <<<"$line"
}

pg_tuning() { # pg_tuning MEM_KIB DISK_FREE_KIB -> the settings file for a host of that size
  local mem=$(($1 / 1024)) disk=$(($2 / 1024 / 1024)) shared cache maint wal
  shared=$((mem / 4)) cache=$((mem * 3 / 4)) maint=$((mem / 16)) wal=$((disk / 10))
  ((shared <= 8192)) || shared=8192
  ((shared >= 128)) || shared=128
  ((maint <= 1024)) || maint=1024
  ((maint >= 64)) || maint=64
  ((wal <= 8)) || wal=8
  ((wal >= 1)) || wal=1
  cat <<EOF
# Written once by marketplaced's install.sh for a host with $mem MB of memory (delete this file
# and re-run it to size it again; edit it freely: it is never overwritten). PostgreSQL's
# defaults are sized for a small shared machine: 128 MB of buffers for a database of many GB,
# and a checkpoint every 1 GB of WAL (every half minute while the daemon writes, each one
# making the next change of every page log the whole page).
shared_buffers = ${shared}MB
effective_cache_size = ${cache}MB
maintenance_work_mem = ${maint}MB
max_wal_size = ${wal}GB
checkpoint_timeout = 15min
checkpoint_completion_target = 0.9
wal_compression = on
EOF
}

write_pg_tuning() { # write_pg_tuning CONF_D [DATA_DIR] -> true when written (a restart is due)
  local dir=$1 file="$1/$PG_TUNING_FILE" data=${2:-$1} mem disk
  if [ "$PG_TUNING" != 1 ]; then
    info "PostgreSQL settings left as they are (--no-pg-tuning)"
    return 1
  fi
  if [ ! -d "$dir" ]; then
    info "no $dir: PostgreSQL settings left as they are"
    return 1
  fi
  if [ -e "$file" ]; then
    info "settings: $file (kept)"
    return 1
  fi
  mem=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
  disk=$(df -Pk "$data" | awk 'NR == 2 {print $4}') # the WAL is written in the data directory
  pg_tuning "$mem" "$disk" | as_root tee "$file" >/dev/null
  as_root chmod 0644 "$file"
  info "settings for this host written to $file"
}

start_postgresql() {
  step "PostgreSQL"
  detect_pg_cluster
  info "cluster $PG_VERSION/$PG_CLUSTER on port $PG_PORT"
  if write_pg_tuning "$PG_CONF_ROOT/$PG_VERSION/$PG_CLUSTER/conf.d" "$PG_DATA" &&
    pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1==v && $2==c {print $4}' | grep -q online; then
    info "restarting the cluster: shared_buffers takes effect only at start"
    if systemd_is_pid1; then
      as_root systemctl restart "postgresql@$PG_VERSION-$PG_CLUSTER.service"
    else
      as_root pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" restart
    fi
  fi
  if systemd_is_pid1; then
    as_root systemctl enable --quiet --now postgresql.service
    as_root systemctl start "postgresql@$PG_VERSION-$PG_CLUSTER.service"
  elif ! pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1==v && $2==c {print $4}' | grep -q online; then
    info "systemd is not PID 1: starting with pg_ctlcluster"
    as_root pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start
  fi
  local i
  for ((i = 0; i < 60; i++)); do # a cold cluster start takes a few seconds; 30 s is generous
    pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && { info "accepting connections"; return 0; }
    sleep 0.5
  done
  die "PostgreSQL $PG_VERSION/$PG_CLUSTER did not accept connections on 127.0.0.1:$PG_PORT within 30 s (see /var/log/postgresql/)"
}

redis_ping() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

start_redis() {
  step "Redis"
  if redis_ping; then
    info "already answering on 127.0.0.1:$REDIS_PORT"
    return 0
  elif systemd_is_pid1; then
    as_root systemctl enable --now redis-server.service
  else
    info "systemd is not PID 1: starting redis-server daemonized"
    if [ -r /etc/redis/redis.conf ] && getent passwd redis >/dev/null; then
      # The Debian config as the redis user, so its files stay usable by a later systemd start.
      as_root install -d -o redis -g redis -m 2775 /run/redis
      as_root runuser -u redis -- redis-server /etc/redis/redis.conf \
        --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --supervised no
    else
      as_root redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no
    fi
  fi
  local i
  for ((i = 0; i < 40; i++)); do
    redis_ping && { info "PONG from 127.0.0.1:$REDIS_PORT"; return 0; }
    sleep 0.25
  done
  die "Redis did not answer PING on 127.0.0.1:$REDIS_PORT within 10 s (see /var/log/redis/)"
}

# ensure_role ROLE PASSWORD ATTRIBUTES [DATABASE]: create if missing, then (re)set the password and
# attributes so the role always matches the env file; create DATABASE owned by ROLE if missing.
# The password travels on stdin, never on a command line (visible in ps).
ensure_role() {
  local role=$1 password=$2 attrs=$3 db=${4:-}
  {
    printf "\\set role '%s'\n\\set pw '%s'\n" "$role" "$password"
    cat <<'SQL'
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') AS need_role \gset
\if :need_role
CREATE ROLE :"role" LOGIN;
\echo '    created role' :role
\endif
SQL
    printf 'ALTER ROLE :"role" WITH LOGIN %s PASSWORD :'"'pw'"';\n' "$attrs"
    if [ -n "$db" ]; then
      printf "\\set db '%s'\n" "$db"
      cat <<'SQL'
SELECT NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') AS need_db \gset
\if :need_db
CREATE DATABASE :"db" OWNER :"role";
\echo '    created database' :db
\endif
ALTER DATABASE :"db" OWNER TO :"role";
SQL
    fi
  } | psql_admin -f -
}

check_login() { # check_login ROLE PASSWORD DB — proves password auth over TCP works
  PGPASSWORD=$2 psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U "$1" -d "$3" -tAc 'SELECT 1' >/dev/null ||
    die "role $1 cannot log in to database $3 on 127.0.0.1:$PG_PORT with the stored password (check pg_hba.conf)"
}

# ---------------------------------------------------------------------------------------------
# test mode
# ---------------------------------------------------------------------------------------------
test_db_role() {
  step "Test database role $TEST_ROLE and $TEST_ENV_FILE"
  local password
  password=$(env_get "$TEST_ENV_FILE" DB_PASSWORD)
  if [ -z "$password" ]; then
    password=$(gen_secret)
    info "generated a new password"
  else
    info "keeping the password from $TEST_ENV_FILE"
  fi
  ensure_role "$TEST_ROLE" "$password" "CREATEDB NOSUPERUSER NOCREATEROLE"
  local tmp
  tmp=$(mktemp "$REPO/.env.test.XXXXXX")
  chmod 600 "$tmp"
  cat >"$tmp" <<EOF
# Written by install.sh --test: credentials of the test-only role (never production). Mode 0600.
DB_HOST=127.0.0.1
DB_PORT=$PG_PORT
DB_USER=$TEST_ROLE
DB_PASSWORD=$password
DB_NAME=postgres
REDIS_HOST=127.0.0.1
REDIS_PORT=$REDIS_PORT
REDIS_DB=$TEST_REDIS_DB
EOF
  mv -f "$tmp" "$TEST_ENV_FILE"
  check_login "$TEST_ROLE" "$password" postgres
  info "login as $TEST_ROLE over TCP works"
}

dev_venv() {
  step "Development virtualenv $TEST_VENV"
  local py=${PYTHON:-python3}
  command -v "$py" >/dev/null || die "$py not found"
  python_ok "$py" || die "$py must be Python >= $MIN_PYTHON with venv/ensurepip (apt install python3-venv)"
  if [ -x "$TEST_VENV/bin/python" ] && python_ok "$TEST_VENV/bin/python"; then
    info "reusing $TEST_VENV ($("$TEST_VENV/bin/python" -V))"
  else
    rm -rf "$TEST_VENV"
    info "creating with $("$py" -V) ($(command -v "$py"))"
    "$py" -m venv "$TEST_VENV"
  fi
  # Skip the (network-bound) pip step when pyproject.toml has not changed since the last install.
  local stamp=$TEST_VENV/.install-stamp want
  want=$(sha256sum "$REPO/pyproject.toml" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$TEST_VENV/bin/marketplaced" ]; then
    info "package already installed (editable) and pyproject.toml unchanged"
  else
    info "pip install -e '.[test]'"
    quietly "$TEST_VENV/bin/python" -m pip install --disable-pip-version-check --upgrade pip
    quietly "$TEST_VENV/bin/python" -m pip install --disable-pip-version-check -e "$REPO[test]"
    echo "$want" >"$stamp"
  fi
}

run_checks_and_tests() {
  local bin=$TEST_VENV/bin
  printf '\nProvisioning took %ss.\n' "$((SECONDS - SCRIPT_START))"
  cd "$REPO"

  step "ruff check marketplaced tests"
  "$bin/ruff" check marketplaced tests
  step "mypy"
  "$bin/mypy"

  step "pytest ${PYTEST_ARGS[*]:-}"
  set -a
  # shellcheck source=/dev/null
  . "$TEST_ENV_FILE"
  set +a
  local rc=0
  "$bin/pytest" "${PYTEST_ARGS[@]}" || rc=$?
  case $rc in
    0) printf '\ninstall.sh --test: all checks passed (%ss in total)\n' "$((SECONDS - SCRIPT_START))" ;;
    5) die "pytest collected no tests (exit 5): that is a failure, not a pass" ;;
    *) die "pytest failed (exit $rc)" ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# production install
# ---------------------------------------------------------------------------------------------
service_user() {
  step "System user $SERVICE_USER"
  if getent passwd "$SERVICE_USER" >/dev/null; then
    info "exists"
  else
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin --comment "marketplaced daemon" "$SERVICE_USER"
    info "created (no login shell, no home)"
  fi
}

# The env file is generated once; on re-run its values are kept and only missing keys are added.
env_file() {
  step "Secrets in $ENV_FILE"
  install -d -o root -g "$SERVICE_USER" -m 0750 "$ETC_DIR"
  local created=0
  if [ ! -f "$ENV_FILE" ]; then
    (umask 077 && printf '# marketplaced secrets and connection settings. Mode 0600 root:root: systemd reads it\n# as root (EnvironmentFile=) before dropping privileges. Generated once by install.sh; edit freely.\n' >"$ENV_FILE")
    created=1
  fi
  chown root:root "$ENV_FILE"
  chmod 0600 "$ENV_FILE"
  local key value added=()
  local -A defaults=(
    [DB_HOST]=127.0.0.1 [DB_PORT]=$PG_PORT [DB_NAME]=$DB_NAME [DB_USER]=$DB_ROLE
    [REDIS_HOST]=127.0.0.1 [REDIS_PORT]=$REDIS_PORT [REDIS_DB]=0
  )
  for key in DB_HOST DB_PORT DB_NAME DB_USER DB_PASSWORD REDIS_HOST REDIS_PORT REDIS_DB MARKETPLACED_WEB_TOKEN; do
    if ! grep -q "^${key}=" "$ENV_FILE"; then
      case $key in
        DB_PASSWORD | MARKETPLACED_WEB_TOKEN) value=$(gen_secret) ;;
        *) value=${defaults[$key]} ;;
      esac
      printf '%s=%s\n' "$key" "$value" >>"$ENV_FILE"
      added+=("$key")
    fi
  done
  if [ $created -eq 1 ]; then
    info "created with generated DB_PASSWORD and MARKETPLACED_WEB_TOKEN"
  elif [ ${#added[@]} -gt 0 ]; then
    info "kept existing values; added missing: ${added[*]}"
  else
    info "kept existing file and values"
  fi
}

prod_database() {
  step "Database $DB_NAME and role $DB_ROLE"
  local host user db password
  host=$(env_get "$ENV_FILE" DB_HOST) user=$(env_get "$ENV_FILE" DB_USER)
  db=$(env_get "$ENV_FILE" DB_NAME) password=$(env_get "$ENV_FILE" DB_PASSWORD)
  [ -n "$password" ] || die "DB_PASSWORD is empty in $ENV_FILE"
  if [ "$host" != 127.0.0.1 ] && [ "$host" != localhost ]; then
    info "DB_HOST=$host is not local: skipping role/database creation (create them there yourself)"
    return 0
  fi
  [[ $user =~ ^[a-z_][a-z0-9_]*$ && $db =~ ^[a-z_][a-z0-9_]*$ ]] ||
    die "DB_USER/DB_NAME in $ENV_FILE must be plain lower-case identifiers (got '$user'/'$db')"
  # Not a superuser: the daemon owns its database and nothing else.
  ensure_role "$user" "$password" "NOSUPERUSER NOCREATEDB NOCREATEROLE" "$db"
  # `marketplaced demo` wipes and refills its own database, never the production one
  ensure_role "$user" "$password" "NOSUPERUSER NOCREATEDB NOCREATEROLE" "${db}_demo"
  check_login "$user" "$password" "$db"
  info "role $user owns databases $db and ${db}_demo; password synced with $ENV_FILE"
}

prod_venv() {
  step "Application virtualenv $VENV"
  # Debian's interpreter, not one under /root or /home: the service runs with ProtectHome=yes
  # and as an unprivileged user, so the venv's base interpreter must live in /usr.
  local py=${MARKETPLACED_PYTHON:-/usr/bin/python3}
  python_ok "$py" || die "$py must be Python >= $MIN_PYTHON with venv support (apt install python3-venv)"
  case $(readlink -f "$py") in /root/* | /home/*) die "$py lives in a home directory the service cannot read" ;; esac
  install -d -m 0755 "$PREFIX"
  if [ -x "$VENV/bin/python" ] && python_ok "$VENV/bin/python"; then
    info "reusing ($("$VENV/bin/python" -V))"
  else
    rm -rf "$VENV"
    "$py" -m venv "$VENV"
    info "created with $("$py" -V)"
  fi
  quietly "$VENV/bin/python" -m pip install --disable-pip-version-check --upgrade pip
  # Build from a clean copy so a re-run always installs the current tree and the repo gets no
  # build/ or egg-info owned by root.
  local src
  src=$(mktemp -d)
  tar -C "$REPO" --exclude=.git --exclude=.venv --exclude='storage/*' --exclude='*.egg-info' \
    --exclude=build -cf - . | tar -C "$src" -xf -
  quietly "$VENV/bin/python" -m pip install --disable-pip-version-check --upgrade "$src"
  quietly "$VENV/bin/python" -m pip install --disable-pip-version-check --no-deps --force-reinstall "$src"
  rm -rf "$src"
  [ -x "$VENV/bin/marketplaced" ] || die "the package did not install a 'marketplaced' console script"
  info "installed $("$VENV/bin/python" -m pip show marketplaced 2>/dev/null | sed -n 's/^Version: /marketplaced /p')"
}

wrapper() {
  step "Wrapper $WRAPPER"
  local tmp
  tmp=$(mktemp)
  cat >"$tmp" <<EOF
#!/bin/sh
# Installed by marketplaced's install.sh (re-run it to regenerate). Loads the secrets and the
# config path the way the systemd unit does, then runs the venv's marketplaced, so that
# "sudo marketplaced counts" and friends use the production settings.
set -e
if [ ! -r $ENV_FILE ]; then
  echo "marketplaced: cannot read $ENV_FILE (mode 0600 root): run with sudo" >&2
  exit 77
fi
set -a
. $ENV_FILE
set +a
: "\${MARKETPLACED_CONFIG:=$CONFIG_FILE}"
: "\${STATE_DIRECTORY:=$STATE_DIR}"
export MARKETPLACED_CONFIG STATE_DIRECTORY
# The daemon, the demo (a whole daemon plus a simulator) and the commands that write its raw
# archive never run as root: under sudo they drop to the service user, as systemd does, so the
# files in $STATE_DIR stay the service's and a bug in a long-running process cannot act as root.
if [ "\$(id -u)" = 0 ]; then
  case "\${1:-}" in
    run | demo | download | process-raw)
      exec setpriv --reuid=$SERVICE_USER --regid=$SERVICE_USER --init-groups --inh-caps=-all \\
        $VENV/bin/marketplaced "\$@"
      ;;
  esac
fi
exec $VENV/bin/marketplaced "\$@"
EOF
  install -m 0755 "$tmp" "$WRAPPER"
  rm -f "$tmp"
  info "installed"
}

config_and_state() {
  step "Configuration $CONFIG_FILE and state $STATE_DIR"
  if [ -e "$CONFIG_FILE" ]; then
    info "keeping existing $CONFIG_FILE"
  else
    [ -f "$REPO/config/marketplaced.toml" ] || die "$REPO/config/marketplaced.toml is missing from the repository"
    install -o root -g "$SERVICE_USER" -m 0640 "$REPO/config/marketplaced.toml" "$CONFIG_FILE"
    info "installed the default config"
  fi
  install -d -o "$SERVICE_USER" -g "$SERVICE_USER" -m 0700 "$STATE_DIR"
  "$WRAPPER" check-config || die "$CONFIG_FILE is invalid (see above); fix it and re-run"
}

migrate() {
  step "Migrations"
  "$WRAPPER" migrate
}

service() {
  if [ "$MODE" = no-service ]; then
    step "systemd unit (skipped: --no-service)"
    info "run the daemon in the foreground with:  sudo marketplaced run"
    return 0
  fi
  if ! systemd_is_pid1; then
    step "systemd unit (skipped: systemd is not PID 1 on this host)"
    info "run the daemon in the foreground with:  sudo marketplaced run"
    info "(it reads $ENV_FILE and $CONFIG_FILE and drops to user $SERVICE_USER)"
    return 0
  fi
  step "systemd unit marketplaced.service"
  install -m 0644 "$REPO/systemd/marketplaced.service" "$UNIT_DIR/marketplaced.service"
  systemctl daemon-reload
  systemctl enable --quiet marketplaced.service
  # restart (not start): a re-run after an upgrade must load the new code. Type=notify makes this
  # block until READY=1 or TimeoutStartSec.
  if ! systemctl restart marketplaced.service; then
    journalctl -u marketplaced.service -n 30 --no-pager >&2 || true
    die "marketplaced.service failed to start (journalctl -u marketplaced shows why)"
  fi
  info "$(systemctl is-active marketplaced.service): follow with  journalctl -u marketplaced -f"
}

# ---------------------------------------------------------------------------------------------
main() {
  parse_args "$@"
  if [ "$MODE" = test ]; then
    is_root || command -v sudo >/dev/null || die "--test needs root or sudo (packages, services, database role)"
    install_packages
    start_postgresql
    start_redis
    test_db_role
    dev_venv
    run_checks_and_tests
  else
    is_root || die "run as root: sudo ./install.sh $*"
    install_packages
    start_postgresql
    start_redis
    service_user
    env_file
    prod_database
    prod_venv
    wrapper
    config_and_state
    migrate
    service
    printf '\nmarketplaced installed in %ss. Try:  sudo marketplaced status\n' "$((SECONDS - SCRIPT_START))"
  fi
}

# Run only when executed, not when sourced (tests source it to exercise single functions).
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"
fi
