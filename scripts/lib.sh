# Shared set-up for scripts/run.sh and scripts/test.sh: sourced, not run.
# Every step is idempotent: it checks before it installs, so a second run costs seconds.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA="$ROOT/.data"
mkdir -p "$DATA/logs"
export CARGO_TARGET_DIR="$ROOT/target" # one target dir for cargo and cargo-leptos
export PATH="$HOME/.cargo/bin:$ROOT/end2end/node_modules/.bin:$PATH"
# Queries are checked at compile time against the committed .sqlx data, not a live database.
export SQLX_OFFLINE=true
# cargo-leptos sets this when it builds; leptos reads it at compile time, so cargo test must see the
# same value or it rebuilds leptos and everything above it.
export LEPTOS_OUTPUT_NAME=crossview

CARGO_LEPTOS_VERSION=0.3.10
MOTO_VERSION=5.2.1
PIDS=()

say() { printf '\033[1m==> [%s] %s\033[0m\n' "$(date +%T)" "$*"; }

cleanup() {
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

apt_install() {
  # $@: packages; installs only the missing ones
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]} (Debian)"
  local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Tools are built once per machine, for speed of building rather than of running: they do
# seconds of work per build (cargo-leptos orchestrates; the heavy lifting is rustc's), so their
# own optimisation is not worth the compile time (cargo-leptos: ~23 min as published, ~10 here).
light_install() {
  CARGO_PROFILE_RELEASE_OPT_LEVEL=$1 CARGO_PROFILE_RELEASE_LTO=false \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 CARGO_PROFILE_RELEASE_DEBUG=false \
    CARGO_PROFILE_RELEASE_INCREMENTAL=false cargo install --quiet "${@:2}"
}

ensure_rust_tools() {
  rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown \
    || { say "adding the wasm32 target"; rustup target add wasm32-unknown-unknown; }
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    say "building cargo-leptos $CARGO_LEPTOS_VERSION (once per machine)"
    light_install 0 cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
  fi
  # cargo-leptos would download wasm-bindgen itself, which this network refuses: put the exact
  # version from Cargo.lock on PATH first. (No --locked: its lock names an unpublished crate.)
  # Level 1: it rewrites the whole wasm file on every build.
  local wb
  wb=$(grep -A1 '^name = "wasm-bindgen"$' "$ROOT/Cargo.lock" | sed -n 's/^version = "\(.*\)"/\1/p')
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $wb\$"; then
    say "building wasm-bindgen-cli $wb"
    light_install 1 wasm-bindgen-cli --version "$wb" --force
  fi
}

ensure_node_tools() {
  # Playwright and binaryen's wasm-opt (Debian's binaryen breaks hydration) come from npm.
  if [ ! -x "$ROOT/end2end/node_modules/.bin/wasm-opt" ] || [ ! -d "$ROOT/end2end/node_modules/@playwright/test" ] \
    || [ "$ROOT/end2end/package-lock.json" -nt "$ROOT/end2end/node_modules/.package-lock.json" ]; then
    say "installing end-to-end tools (npm)"
    (cd "$ROOT/end2end" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

ensure_chromium() {
  [ -x /usr/bin/chromium ] || apt_install chromium
}

ensure_moto() {
  python3 -c "import moto, flask, flask_cors, boto3; assert moto.__version__ == '$MOTO_VERSION'" 2>/dev/null && return 0
  say "installing moto[server] $MOTO_VERSION (PyPI)"
  python3 -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
}

# The infrastructure-as-code checks: python-hcl2 parses the Terraform module and the snippet the
# connection page generates; checkov scans them (in a venv of its own: it pins many packages,
# boto3's among them, that moto's would clash with); cfn-lint checks the CloudFormation template.
CHECKOV_VERSION=3.3.30
PYTHON_HCL2_VERSION=8.1.4
CFN_LINT_VERSION=1.58.0
ensure_iac_tools() {
  if ! python3 -c "import hcl2, cfnlint; from importlib.metadata import version as v
assert v('python-hcl2') == '$PYTHON_HCL2_VERSION' and v('cfn-lint') == '$CFN_LINT_VERSION'" 2>/dev/null; then
    say "installing python-hcl2 $PYTHON_HCL2_VERSION and cfn-lint $CFN_LINT_VERSION (PyPI)"
    python3 -m pip install --quiet --disable-pip-version-check \
      "python-hcl2==$PYTHON_HCL2_VERSION" "cfn-lint==$CFN_LINT_VERSION"
  fi
  CHECKOV="$DATA/checkov/bin/checkov"
  "$CHECKOV" --version 2>/dev/null | grep -qx "$CHECKOV_VERSION" && return 0
  say "installing checkov $CHECKOV_VERSION (PyPI, in its own venv)"
  python3 -m venv "$DATA/checkov"
  "$DATA/checkov/bin/pip" install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
}

# A real SMTP server for the mail tests: aiosmtpd (PyPI), delivering into a Maildir.
AIOSMTPD_VERSION=1.4.6
ensure_mail_server() {
  python3 -c "import aiosmtpd; assert aiosmtpd.__version__ == '$AIOSMTPD_VERSION'" 2>/dev/null && return 0
  say "installing aiosmtpd $AIOSMTPD_VERSION (PyPI)"
  python3 -m pip install --quiet --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION"
}

# start_mail_server -> sets SMTP_TEST_URL and MAIL_TEST_DIR (a Maildir: new/ holds each message).
start_mail_server() {
  local port
  port=$(free_port)
  MAIL_TEST_DIR="$DATA/mail"
  rm -rf "$MAIL_TEST_DIR" && mkdir -p "$MAIL_TEST_DIR"/tmp "$MAIL_TEST_DIR"/new "$MAIL_TEST_DIR"/cur
  python3 -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox "$MAIL_TEST_DIR" \
    >"$DATA/logs/smtp.log" 2>&1 &
  PIDS+=($!)
  wait_for_port "$port" "the mail server"
  SMTP_TEST_URL="smtp://127.0.0.1:$port"
}

# start_oidc_provider URL -> sets OIDC_TEST_ENV, the settings (for `env`) that point Crossview at
# a real OpenID provider (npm oidc-provider, end2end/oidc/provider.mjs) whose client `crossview`
# returns to URL/sso/callback.
start_oidc_provider() {
  local port
  port=$(free_port)
  node "$ROOT/end2end/oidc/provider.mjs" "$port" "$1/sso/callback" >"$DATA/logs/oidc.log" 2>&1 &
  PIDS+=($!)
  wait_for_port "$port" "the OpenID provider"
  OIDC_TEST_ENV=("OIDC_ISSUER=http://127.0.0.1:$port" OIDC_CLIENT_ID=crossview
    OIDC_CLIENT_SECRET=crossview-test-secret "OIDC_LABEL=Test IdP"
    "OIDC_SCOPES=email profile groups" OIDC_ALLOWED_DOMAINS=example.test
    OIDC_ADMIN_GROUPS=crossview-admins)
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_for_port() {
  # $1 port, $2 what. A TCP connect only: in strict mode every HTTP request counts against moto's
  # unauthenticated allowance.
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$2 did not start on port $1" >&2
  return 1
}

# start_moto NAME -> sets MOTO_URL. Strict mode: after the three unsigned requests that create
# its admin (scripts/aws_world.py), every request must be signed, in a header or a presigned URL.
start_moto() {
  local name=$1 port
  port=$(free_port)
  INITIAL_NO_AUTH_ACTION_COUNT=3 python3 "$ROOT/scripts/moto_server.py" -H 127.0.0.1 -p "$port" \
    >"$DATA/logs/moto-$name.log" 2>&1 &
  PIDS+=($!)
  wait_for_port "$port" "the AWS stand-in ($name)"
  MOTO_URL="http://127.0.0.1:$port"
}

pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# ensure_postgres -> sets PG_URL (a server URL without a database name)
ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then
    PG_URL="${DATABASE_URL%/*}"
    return 0
  fi
  if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && psql "postgres://postgres@127.0.0.1:5432/postgres" -Atc 'select 1' >/dev/null 2>&1; then
    PG_URL="postgres://postgres@127.0.0.1:5432"
    return 0
  fi
  # A private cluster under .data/pg, owned by the postgres user (initdb refuses to run as root).
  [ -n "$(pg_bin)" ] || apt_install postgresql
  local bin port=5439 dir="$DATA/pg" sock="$DATA/pg-sock"
  bin=$(pg_bin)
  id postgres >/dev/null 2>&1 || useradd --system --home "$DATA" postgres
  mkdir -p "$sock"
  chown postgres "$DATA" "$sock"
  if [ ! -f "$dir/PG_VERSION" ]; then
    say "creating a private Postgres cluster in .data/pg"
    mkdir -p "$dir" && chown postgres "$dir"
    runuser -u postgres -- "$bin/initdb" -D "$dir" -A trust -U postgres >/dev/null
  fi
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir" -l "$DATA/logs/postgres.log" -w \
      -o "-p $port -k $sock -c listen_addresses=127.0.0.1" start >/dev/null
  fi
  PG_URL="postgres://postgres@127.0.0.1:$port"
}

# PgBouncer >= 1.21 (it tracks prepared statements in transaction mode, as Neon's and Supabase's
# poolers do; sqlx prepares named statements). Debian 12 packages 1.18, so it is built once per
# machine from Debian 13's source package (deb.debian.org), into /usr/local (~20 s): outside the
# clone, whose folders the postgres user it runs as may not be allowed to enter.
ensure_pgbouncer() {
  local prefix=/usr/local/lib/crossview-pgbouncer
  PGBOUNCER="$prefix/bin/pgbouncer"
  [ -x "$PGBOUNCER" ] && return 0
  apt_install libevent-dev libssl-dev pkg-config make gcc
  local src=/etc/apt/sources.list.d/crossview-trixie-src.list sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  if [ ! -f "$src" ]; then
    echo "deb-src http://deb.debian.org/debian trixie main" | $sudo tee "$src" >/dev/null
    $sudo apt-get update -qq
  fi
  say "building PgBouncer from Debian 13's source package (once per machine)"
  local work
  work=$(mktemp -d)
  (cd "$work" && apt-get source --download-only pgbouncer/trixie >/dev/null 2>&1 &&
    tar xzf pgbouncer_*.orig.tar.gz && cd pgbouncer-*/ &&
    ./configure --prefix="$prefix" --without-cares --without-systemd >/dev/null &&
    make -j2 >/dev/null && $sudo make install >/dev/null)
  rm -rf "$work"
  [ -x "$PGBOUNCER" ]
}

# PgBouncer in transaction mode in front of $PG_URL, as Neon, Supabase and Vercel Postgres pool:
# sets POOLED_URL (no database in it; append /NAME). Migrations go over DATABASE_URL_DIRECT (see
# the README's "Pooled Postgres").
start_pgbouncer() {
  ensure_pgbouncer
  # PgBouncer refuses to run as root: it runs as postgres, with its files where that user may go.
  local dir=/tmp/crossview-pgbouncer port=6432 upstream=${PG_URL#postgres://}
  local user=${upstream%%@*} hostport=${upstream#*@}
  id postgres >/dev/null 2>&1 || useradd --system --home "$DATA" postgres
  mkdir -p "$dir"
  chown postgres "$dir"
  printf '"%s" ""\n' "$user" >"$dir/users.txt"
  cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=${hostport%:*} port=${hostport#*:}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
; prepared statements follow the client across server connections (PgBouncer >= 1.21)
max_prepared_statements = 500
max_client_conn = 500
default_pool_size = 20
; sqlx sends it at start-up; PgBouncer does not track it and would refuse the connection
ignore_startup_parameters = extra_float_digits
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    runuser -u postgres -- "$PGBOUNCER" -d "$dir/pgbouncer.ini"
    wait_for_port "$port" "PgBouncer"
    PIDS+=("$(cat "$dir/pgbouncer.pid")")
  fi
  POOLED_URL="postgres://$user@127.0.0.1:$port"
}

# ensure_database NAME -> echoes its URL
ensure_database() {
  local name=$1
  psql "$PG_URL/postgres" -Atc "select 1 from pg_database where datname = '$name'" | grep -q 1 \
    || psql "$PG_URL/postgres" -qc "create database \"$name\"" >/dev/null
  echo "$PG_URL/$name"
}

# fresh_database NAME -> echoes its URL: an empty database, whatever an earlier run left there
fresh_database() {
  psql "$PG_URL/postgres" -qc "drop database if exists \"$1\" with (force)" >/dev/null
  ensure_database "$1"
}

# A session secret kept under .data so that sessions survive a restart of the dev server.
session_secret() {
  [ -f "$DATA/session-secret" ] || python3 -c 'import secrets; print(secrets.token_hex(64))' >"$DATA/session-secret"
  cat "$DATA/session-secret"
}
