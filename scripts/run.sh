#!/usr/bin/env bash
# Runs Crossview locally on an embedded default, from a fresh clone:
#   - Postgres: DATABASE_URL if set, else a server on 127.0.0.1:5432, else a private cluster in .data/
#   - AWS: the standard credential chain if AWS credentials are set, else the local AWS stand-in
#     (strict mode: trust policies and ExternalIds enforced) seeded as a demo world
# then builds and serves Crossview and prints where to go.
#
# The demo runs the dev profile: on a new machine it builds in about half the time of the
# release profile. `scripts/run.sh --release` serves the release build (what test.sh and
# bench.sh use) instead. Each profile has its own site folder, so neither overwrites the other.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

profile=debug
build=(cargo leptos build)
export LEPTOS_SITE_ROOT=target/site-dev
sso=false
for arg in "$@"; do
  case "$arg" in
    --release)
      profile=release
      build=(cargo leptos build --release --precompress)
      export LEPTOS_SITE_ROOT=target/site
      ;;
    # Single sign-on through a local OpenID provider (npm oidc-provider), as the tests use it.
    --sso) sso=true ;;
    *) echo "usage: scripts/run.sh [--release] [--sso]" >&2 && exit 2 ;;
  esac
done

ensure_rust_tools
if [ "$profile" = release ] || $sso; then
  ensure_node_tools # binaryen's wasm-opt (release builds) and the OpenID provider, from npm
fi
ensure_postgres

if [ -n "${AWS_ACCESS_KEY_ID:-}${AWS_PROFILE:-}${AWS_WEB_IDENTITY_TOKEN_FILE:-}${AWS_CONTAINER_CREDENTIALS_FULL_URI:-}" ]; then
  say "using the AWS credentials from your environment"
else
  ensure_moto
  say "starting the local AWS stand-in with a demo world"
  start_moto demo
  python3 scripts/aws_world.py --endpoint "$MOTO_URL" --out "$DATA/demo.env" --demo
  # shellcheck disable=SC1091
  source "$DATA/demo.env"
  # The stand-in's admin key plays the customer's side (creating roles); Crossview itself gets
  # only its own identity, so the key is kept out of the server's environment.
  STANDIN_ADMIN=("CROSSVIEW_STANDIN_ADMIN_KEY_ID=$CROSSVIEW_STANDIN_ADMIN_KEY_ID" "CROSSVIEW_STANDIN_ADMIN_SECRET=$CROSSVIEW_STANDIN_ADMIN_SECRET")
  unset CROSSVIEW_STANDIN_ADMIN_KEY_ID CROSSVIEW_STANDIN_ADMIN_SECRET
fi

if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$(ensure_database crossview)
fi
export DATABASE_URL
export CROSSVIEW_ENV=${CROSSVIEW_ENV:-development}
export COOKIE_SECURE=${COOKIE_SECURE:-false}
SESSION_SECRET=${SESSION_SECRET:-$(session_secret)}
export SESSION_SECRET
# Whoever signs up giving it becomes the first administrator (once; see the README's Security).
BOOTSTRAP_TOKEN=${BOOTSTRAP_TOKEN:-$(python3 -c 'import secrets; print(secrets.token_hex(16))')}
export BOOTSTRAP_TOKEN
export LEPTOS_SITE_ADDR=${LEPTOS_SITE_ADDR:-127.0.0.1:3000}
# Passkeys belong to a site's name, not an address: the demo is opened at localhost.
export PUBLIC_URL=${PUBLIC_URL:-http://localhost:${LEPTOS_SITE_ADDR##*:}}
if $sso; then
  say "starting a local OpenID provider"
  start_oidc_provider "$PUBLIC_URL"
  export "${OIDC_TEST_ENV[@]}"
  SSO_NOTE="
  Single sign-on: \"Sign in with Test IdP\" on the sign-in page leads to a local OpenID
  provider whose login page takes any name and password. A name @example.test gets an account
  at its first sign-in; admin:you@example.test is in the provider's admin group;
  mfa:you@example.test signs in with the provider's second factor."
fi

# cargo-leptos regenerates the wasm bindings on every build (about a minute here) even when
# nothing changed: build only when a source is newer than what was built.
built=("$CARGO_TARGET_DIR/$profile/server" "$LEPTOS_SITE_ROOT/pkg/crossview.wasm")
stale() {
  for f in "${built[@]}"; do
    [ -f "$f" ] || return 0
    [ -z "$(find app server style migrations .sqlx Cargo.toml Cargo.lock -newer "$f" -print -quit)" ] || return 0
  done
  return 1
}
if stale; then
  say "building the site ($profile profile)"
  "${build[@]}"
else
  say "the $profile site is up to date"
fi

"$CARGO_TARGET_DIR/$profile/server" &
SERVER=$!
PIDS+=("$SERVER")
for _ in $(seq 1 100); do
  curl -fsS "http://$LEPTOS_SITE_ADDR/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done

# The demo account (made an administrator as an operator makes one: `server admin grant`) and,
# in the demo world, its verified connection, set up through Crossview's own API as a person
# would.
DEMO_EMAIL=demo@crossview.local
DEMO_PASSWORD="demo harbour lantern quietly"
if [ -n "${STANDIN_ADMIN:-}" ]; then
  env "${STANDIN_ADMIN[@]}" python3 scripts/demo_account.py "http://$LEPTOS_SITE_ADDR" "$DEMO_EMAIL" "$DEMO_PASSWORD"
  "$CARGO_TARGET_DIR/$profile/server" admin grant "$DEMO_EMAIL" >/dev/null
  SIGN_IN="  Sign in as  $DEMO_EMAIL  with password  \"$DEMO_PASSWORD\"  (an administrator),
  or create your own account on the sign-up page."
  # The one big folder fills while the page is already served (about a minute).
  env "${STANDIN_ADMIN[@]}" python3 scripts/aws_world.py archive >"$DATA/logs/demo-archive.log" 2>&1 &
  PIDS+=($!)
  TRY_IT="
  Things to try in the demo world (a local AWS stand-in that checks signatures, trust
  policies, ExternalIds and every session's policy, as AWS does):
    - Demo AWS account → crossview-demo-reports → samples/: preview an image, a PDF, a WAV,
      a CSV and a text file; download any of them.
    - policies/retention.txt: Show versions, download an old one, restore it.
    - crossview-demo-photos → archive/: 3,000 keys (filling during the first minute), a page
      of 1,000 at a time; filter by prefix.
    - Upload files or a whole folder (over 16 MiB goes as a multipart upload), then rename,
      copy, share or delete them.
    - Demo read-only: the same buckets through a read-only role; uploads, deletes and renames
      are refused with the permission that is missing and the statement that grants it.
    - Admin: every user, connection and role assumption. An administrator needs a second
      factor first (REQUIRE_MFA=admins): the console sends you to Account, where an
      authenticator app scans the QR code (or \`oathtool --totp -b KEY\` takes its key).
    - New connection: connect an account yourself, as a customer would. Copy the trust
      policy, create the role in the demo world with

          scripts/standin-role.sh my-role      (paste the trust policy, then Ctrl-D)

      then paste the ARN it prints into the page and verify."
fi

if [ -z "${SIGN_IN:-}" ]; then
  SIGN_IN="  Create your account on the sign-up page. To make it this deployment's administrator,
  open \"Setting up this deployment?\" there and give the setup token  $BOOTSTRAP_TOKEN"
fi

cat <<MSG

  Crossview is running at $PUBLIC_URL

${SIGN_IN:-}
  Passkeys: Account → "Add a passkey" (your browser's or your phone's), then "Use a passkey" on
  the sign-in page; an authenticator app works there too (two-step sign-in).
${SSO_NOTE:-}
${TRY_IT:-}

  Stop with Ctrl-C.
MSG
wait "$SERVER"
