#!/usr/bin/env bash
# Runs every test of Crossview against real parts, from a fresh clone:
#   1. Rust unit and #[sqlx::test] tests, and integration tests against the AWS stand-in in
#      strict mode (trust policies and ExternalIds enforced);
#   2. the Playwright suite in Chromium against the release build;
# and fails on unformatted code or any clippy warning, in the server and the wasm build alike.
# Installs what it needs first. One cargo profile (release) serves the build and every test.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

say "formatting (cargo fmt --check)"
cargo fmt --all --check

ensure_rust_tools
ensure_node_tools
ensure_chromium
ensure_moto
ensure_postgres

say "starting the AWS stand-in (strict mode) with the browsing and demo worlds"
start_moto strict
# Its buckets' CORS rule allows the origin the Playwright suite opens.
python3 scripts/aws_world.py --endpoint "$MOTO_URL" --out "$DATA/strict.env" --browse --demo \
  --origin http://127.0.0.1:3000 >/dev/null
# shellcheck disable=SC1091
source "$DATA/strict.env"

export CROSSVIEW_ENV=development COOKIE_SECURE=false
# The browser suite signs up dozens of accounts from one address within the hour.
export SIGNUP_PER_ADDRESS_PER_HOUR=1000
# The stand-in applies roles at once; a short propagation window keeps refusals quick.
export VERIFY_PROPAGATION_SECS=2
SESSION_SECRET=$(session_secret)
export SESSION_SECRET
export DATABASE_URL
DATABASE_URL=$(ensure_database crossview_test)
# info: the scan at the end reads everything Crossview logged.
export RUST_LOG=${RUST_LOG:-info}

# Clippy lints the workspace's own crates while they are compiled for real, instead of in a
# separate check of every dependency: it is the compiler for them (server, wasm and tests alike,
# so all three steps below share one fingerprint and nothing is compiled twice).
RUSTC_WORKSPACE_WRAPPER=$(rustup which clippy-driver)
export RUSTC_WORKSPACE_WRAPPER
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"

say "building the release site (server + wasm), with clippy"
cargo leptos build --release

say "Rust tests (unit, Postgres, strict AWS stand-in)"
cargo test --release --workspace --no-fail-fast -- --include-ignored 2>&1 | tee "$DATA/logs/cargo-test.log"

say "Playwright tests in Chromium"
psql "$PG_URL/postgres" -qc 'drop database if exists crossview_e2e with (force)' >/dev/null
DATABASE_URL=$(ensure_database crossview_e2e)
# The release server as built above (`cargo leptos end-to-end` would regenerate the wasm
# bindings first, a minute or two for nothing), then the suite.
export LEPTOS_SITE_ADDR=127.0.0.1:3000
"$CARGO_TARGET_DIR/release/server" >"$DATA/logs/e2e-server.log" 2>&1 &
PIDS+=($!)
wait_for_port 3000 "the release server"
(cd end2end && npx playwright test) 2>&1 | tee "$DATA/logs/e2e.log"

say "no credential in the database or the logs"
bash scripts/scan-secrets.sh "$DATABASE_URL" "$DATA/logs/cargo-test.log" "$DATA/logs/e2e.log" \
  "$DATA/logs/e2e-server.log"

rust_passed=$(grep -Eo '[0-9]+ passed' "$DATA/logs/cargo-test.log" | awk '{s+=$1} END {print s+0}')
e2e_passed=$(grep -Eo '[0-9]+ passed' "$DATA/logs/e2e.log" | tail -n 1 | awk '{print $1+0}')
echo "$((rust_passed + e2e_passed)) passed, 0 failed"
