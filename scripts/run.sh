#!/usr/bin/env bash
# Runs Crossview locally on an embedded default, from a fresh clone:
#   - Postgres: DATABASE_URL if set, else a server on 127.0.0.1:5432, else a private cluster in .data/
#   - AWS: the standard credential chain if AWS credentials are set, else the local AWS stand-in
#     (strict mode: trust policies and ExternalIds enforced) seeded as a demo world
# then serves the release build and prints where to go.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_rust_tools
ensure_node_tools
ensure_postgres

if [ -n "${AWS_ACCESS_KEY_ID:-}${AWS_PROFILE:-}${AWS_WEB_IDENTITY_TOKEN_FILE:-}${AWS_CONTAINER_CREDENTIALS_FULL_URI:-}" ]; then
  say "using the AWS credentials from your environment"
else
  ensure_moto
  say "starting the local AWS stand-in with a demo world"
  start_moto demo strict
  python3 scripts/aws_world.py --endpoint "$MOTO_URL" --out "$DATA/demo.env" --demo
  # shellcheck disable=SC1091
  source "$DATA/demo.env"
  # The stand-in's admin key is for tests; Crossview itself gets only its own identity.
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
export LEPTOS_SITE_ADDR=${LEPTOS_SITE_ADDR:-127.0.0.1:3000}

say "building the release site"
cargo leptos build --release

"$CARGO_TARGET_DIR/release/server" &
SERVER=$!
PIDS+=("$SERVER")
for _ in $(seq 1 100); do
  curl -fsS "http://$LEPTOS_SITE_ADDR/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done

# The demo account: the first account of a fresh deployment, so it is also the admin.
DEMO_EMAIL=demo@crossview.local
DEMO_PASSWORD=crossview-demo-password
curl -fsS -o /dev/null -H 'Accept: application/json' -H "Origin: http://$LEPTOS_SITE_ADDR" \
  --data-urlencode "email=$DEMO_EMAIL" --data-urlencode "password=$DEMO_PASSWORD" \
  "http://$LEPTOS_SITE_ADDR/api/sign_up" 2>/dev/null || true

cat <<MSG

  Crossview is running at http://$LEPTOS_SITE_ADDR

  Sign in as  $DEMO_EMAIL  with password  $DEMO_PASSWORD
  (or create your own account on the sign-up page).

  Stop with Ctrl-C.
MSG
wait "$SERVER"
