#!/usr/bin/env bash
# Runs every test of Crossview against real parts, from a fresh clone:
#   1. Rust unit and #[sqlx::test] tests, and integration tests against the AWS stand-in in
#      strict mode (trust policies and ExternalIds enforced);
#   2. the Playwright suite in Chromium against the release build;
#   3. each way Crossview is hosted: the Vercel Function from its Build Output behind a stand-in
#      of Vercel's edge, two instances behind a round-robin balancer through PgBouncer, and the
#      container image (each with the Playwright hosting walk, or scripts/container-test.sh);
# and fails on unformatted code or any clippy warning, in the server and the wasm build alike.
# Installs what it needs first. One cargo profile (release) serves the build and every test.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

say "formatting (cargo fmt --check)"
cargo fmt --all --check

ensure_rust_tools
ensure_node_tools
ensure_chromium

say "the preview renderers in public/vendor are the npm packages' own files"
cmp public/vendor/markdown-it-14.3.3.min.js end2end/node_modules/markdown-it/dist/markdown-it.min.js
cmp public/vendor/highlight-11.12.0.min.js \
  end2end/node_modules/@highlightjs/cdn-assets/es/highlight.min.js
ensure_moto
ensure_iac_tools
ensure_mail_server
ensure_postgres

say "starting a mail server (aiosmtpd) for the tests that follow a message's link"
start_mail_server
export SMTP_TEST_URL MAIL_TEST_DIR

say "starting the AWS stand-in (strict mode) with the browsing and demo worlds"
start_moto strict
# Its buckets' CORS rule allows the origins the Playwright runs open: the release server, the
# Vercel edge's stand-in and the balancer in front of two instances (see below).
python3 scripts/aws_world.py --endpoint "$MOTO_URL" --out "$DATA/strict.env" --browse --demo \
  --origin http://127.0.0.1:3000 --origin http://127.0.0.1:3100 --origin http://127.0.0.1:3200 \
  >/dev/null
# shellcheck disable=SC1091
source "$DATA/strict.env"

export CROSSVIEW_ENV=development COOKIE_SECURE=false
# The browser suite signs up dozens of accounts from one address within the hour.
export SIGNUP_PER_ADDRESS_PER_HOUR=1000
# The suites sign administrators in with a password alone; the policy that asks them for a second
# factor (REQUIRE_MFA, default admins) has tests of its own, which set it.
export REQUIRE_MFA=off
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
cargo leptos build --release --precompress

say "Rust tests (unit, Postgres, strict AWS stand-in)"
cargo test --release --workspace --no-fail-fast -- --include-ignored 2>&1 | tee "$DATA/logs/cargo-test.log"

say "Playwright tests in Chromium"
DATABASE_URL=$(fresh_database crossview_e2e)
# The release server as built above (`cargo leptos end-to-end` would regenerate the wasm
# bindings first, a minute or two for nothing), then the suite.
export LEPTOS_SITE_ADDR=127.0.0.1:3000
# The suite's server runs as a role that only serves (README, "Two database roles"): its owner
# migrates and grants with `server migrate`, so every page and function the suite uses is proven
# to work with the serving role's grants alone.
psql "$PG_URL/postgres" -qXc "do \$\$ begin create role crossview_serving login password 'serving';
  exception when duplicate_object then null; end \$\$" >/dev/null
SERVING_URL="postgres://crossview_serving:serving@${PG_URL#*@}/crossview_e2e"
MIGRATION_DATABASE_URL=$DATABASE_URL DATABASE_URL=$SERVING_URL \
  "$CARGO_TARGET_DIR/release/server" migrate
# Passkeys and single sign-on need the server's public address: localhost, since an IP address
# cannot be a WebAuthn relying party. The OpenID provider sends people back there.
say "starting an OpenID provider (oidc-provider) for the single sign-on tests"
start_oidc_provider http://localhost:3000
env DATABASE_URL="$SERVING_URL" PUBLIC_URL=http://localhost:3000 "${OIDC_TEST_ENV[@]}" \
  "$CARGO_TARGET_DIR/release/server" >"$DATA/logs/e2e-server.log" 2>&1 &
PIDS+=($!)
wait_for_port 3000 "the release server"
rm -rf "$DATA/iac"
(cd end2end && npx playwright test) 2>&1 | tee "$DATA/logs/e2e.log"

say "the Terraform module and the page's snippet (python-hcl2, checkov), its CloudFormation (cfn-lint)"
python3 scripts/iac_check.py "$DATA/iac" "$CHECKOV"

say "Vercel: the Build Output's function in local mode, behind a stand-in of Vercel's edge"
bash scripts/vercel-build.sh --no-build
fresh_database crossview_vercel >/dev/null
(cd .vercel/output/functions/index.func &&
  VERCEL_DEV_PORT=3101 DATABASE_URL="$PG_URL/crossview_vercel" exec ./executable) \
  >"$DATA/logs/vercel-function.log" 2>&1 &
PIDS+=($!)
python3 scripts/edge.py --port 3100 --vercel .vercel/output --upstream 127.0.0.1:3101 &
PIDS+=($!)
wait_for_port 3101 "the Vercel function" && wait_for_port 3100 "the edge"
(cd end2end && CROSSVIEW_URL=http://127.0.0.1:3100 npx playwright test hosting.spec.ts) 2>&1 |
  tee "$DATA/logs/e2e-vercel.log"

say "Two instances behind a round-robin balancer, through PgBouncer in transaction mode"
start_pgbouncer
fresh_database crossview_instances >/dev/null
for port in 4001 4002; do
  # Both start at once on the empty database: one migrates (direct URL), the other waits for it.
  DATABASE_URL="$POOLED_URL/crossview_instances" DATABASE_URL_DIRECT="$PG_URL/crossview_instances" \
    UPLOAD_PARALLEL_PARTS=1 LEPTOS_SITE_ADDR="127.0.0.1:$port" \
    "$CARGO_TARGET_DIR/release/server" >"$DATA/logs/instance-$port.log" 2>&1 &
  PIDS+=($!)
done
python3 scripts/edge.py --port 3200 --upstream 127.0.0.1:4001 --upstream 127.0.0.1:4002 &
PIDS+=($!)
wait_for_port 4001 "instance 1" && wait_for_port 4002 "instance 2" && wait_for_port 3200 "the balancer"
(cd end2end && CROSSVIEW_URL=http://127.0.0.1:3200 \
  CROSSVIEW_INSTANCES=http://127.0.0.1:4001,http://127.0.0.1:4002 npx playwright test hosting.spec.ts) 2>&1 |
  tee "$DATA/logs/e2e-instances.log"

say "Container: the Dockerfile's image built from this release build, and run"
bash scripts/container-test.sh

say "no credential in the database or the logs"
bash scripts/scan-secrets.sh "$DATABASE_URL" "$DATA/logs/cargo-test.log" "$DATA/logs/e2e.log" \
  "$DATA/logs/e2e-server.log" "$DATA/logs/vercel-function.log" "$DATA/logs/instance-4001.log" \
  "$DATA/logs/instance-4002.log" "$DATA/logs/container.log"

rust_passed=$(grep -Eo '[0-9]+ passed' "$DATA/logs/cargo-test.log" | awk '{s+=$1} END {print s+0}')
e2e_passed=0
for log in e2e e2e-vercel e2e-instances; do
  n=$(grep -Eo '[0-9]+ passed' "$DATA/logs/$log.log" | tail -n 1 | awk '{print $1+0}')
  e2e_passed=$((e2e_passed + n))
done
echo "$((rust_passed + e2e_passed)) passed, 0 failed"
