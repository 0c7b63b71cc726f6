#!/usr/bin/env bash
# The benchmarks, against the AWS stand-in and the release server:
#   scripts/bench.sh [--requests N]  browsing (scripts/bench_browse.py): server CPU and latency per
#                                    browse request, TCP connections to AWS per request, and 1k-
#                                    versus 50k-key buckets, against the strict stand-in;
#   scripts/bench.sh --transfers     transfers (scripts/bench_transfers.py): the server's own
#                                    traffic and peak memory while 40 MiB and 400 MiB files go up
#                                    and down, against the strict stand-in.
#   scripts/bench.sh --audit [--rows N]
#                                    the audit trail (scripts/bench_audit.py): search pages, export
#                                    rate and memory, chained appends, over 10 million rows
#                                    (seeded once into the database crossview_audit_bench).
#   scripts/bench.sh --start         cold start (scripts/bench_start.py): exec → first /healthz 200
#                                    and → first signed-in folder page, on a migrated database;
#                                    the first visit's transferred bytes.
#   scripts/bench.sh --pages         in-app page moves in a 2,500-key folder, 100 and 1,000 rows a
#                                    page, timed in Chromium from the click to the rows drawn
#                                    (end2end/bench/page-moves.spec.ts).
#   scripts/bench.sh --zip           zip downloads in Chromium: MiB/s, files/s and the tab's peak
#                                    memory for 2,000 small files and one 5 GiB file
#                                    (end2end/bench/zip.spec.ts; BENCH_ZIP_FILES, BENCH_ZIP_MIB).
#   scripts/bench.sh --screenshots   not a measurement, the same world: the README's screenshots
#                                    (end2end/bench/screenshots.spec.ts → end2end/screenshots/).
#   scripts/bench.sh --compare       Crossview beside the floor (the AWS SDK's own AssumeRole +
#                                    ListObjectsV2) and the Node reference (scripts/bench_compare.py,
#                                    ../shared/bench/node-reference when it is there), against the
#                                    canned stand-in (aws-canned), each on its own core: CPU per
#                                    folder page and the ratios, AWS calls and Postgres round trips
#                                    per page, added latency and pages/s with 8 users, bytes per
#                                    page and per first visit, peak RSS with 200 users.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

if [ "${1:-}" = "--audit" ]; then
  shift
  ensure_rust_tools
  ensure_postgres
  DATABASE_URL=$(ensure_database crossview_audit_bench)
  export DATABASE_URL CROSSVIEW_ENV=development COOKIE_SECURE=false
  SESSION_SECRET=$(session_secret)
  export SESSION_SECRET PGBENCH="$(pg_bin)/pgbench" AWS_REGION=${AWS_REGION:-us-east-1}
  say "building the release server"
  cargo leptos build --release --precompress
  say "measuring"
  exec python3 scripts/bench_audit.py --server "$CARGO_TARGET_DIR/release/server" "$@"
fi

ensure_rust_tools
ensure_node_tools
ensure_moto
ensure_postgres

say "starting the AWS stand-in (strict mode)"
start_moto bench
world=()
case "${1:-}" in --pages | --screenshots | --zip) world=(--browse --origin http://127.0.0.1:3300) ;; esac
python3 scripts/aws_world.py --endpoint "$MOTO_URL" --out "$DATA/bench.env" "${world[@]}" >/dev/null
# shellcheck disable=SC1091
source "$DATA/bench.env"

DATABASE_URL=$(fresh_database crossview_bench)
export DATABASE_URL CROSSVIEW_ENV=development COOKIE_SECURE=false VERIFY_PROPAGATION_SECS=2
# A benchmark measures the server, not one user's allowance of assumptions.
export ASSUMPTIONS_PER_USER_PER_MINUTE=100000
SESSION_SECRET=$(session_secret)
export SESSION_SECRET

say "building the release server"
cargo leptos build --release --precompress

say "measuring"
server="$CARGO_TARGET_DIR/release/server"
if [ "${1:-}" = "--transfers" ]; then
  python3 scripts/bench_transfers.py --server "$server" --store "$MOTO_URL"
elif [ "${1:-}" = "--pages" ] || [ "${1:-}" = "--screenshots" ] || [ "${1:-}" = "--zip" ]; then
  ensure_chromium
  # The screenshots' administrator signs in with a password alone, as the test suite's do.
  REQUIRE_MFA=off LEPTOS_SITE_ADDR=127.0.0.1:3300 "$server" > "$DATA/bench-pages.log" 2>&1 &
  pid=$!
  trap 'kill $pid 2>/dev/null || true' EXIT
  wait_for_port 3300
  spec=page-moves
  [ "$1" = "--screenshots" ] && spec=screenshots
  [ "$1" = "--zip" ] && spec=zip
  (cd end2end && CROSSVIEW_URL=http://127.0.0.1:3300 npx playwright test -c bench.config.ts "$spec")
elif [ "${1:-}" = "--start" ]; then
  python3 scripts/bench_start.py --server "$server"
elif [ "${1:-}" = "--compare" ]; then
  shift
  say "building the canned AWS stand-in and the load (aws-canned, bench-load)"
  cargo build --release -p server --bin aws-canned --bin bench-load
  export ROOT DATA
  python3 scripts/bench_compare.py --server "$server" --bin-dir "$CARGO_TARGET_DIR/release" \
    --node-database "$(fresh_database crossview_bench_node)" "$@"
else
  python3 scripts/bench_browse.py --server "$server" "$@"
fi
