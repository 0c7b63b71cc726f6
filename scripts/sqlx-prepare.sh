#!/usr/bin/env bash
# Refreshes .sqlx/, the offline query data that lets every build check SQL without a database.
# Run after changing a query or a migration. Needs Postgres (see lib.sh: ensure_postgres).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_postgres
db=crossview_sqlx_prepare
psql "$PG_URL/postgres" -qc "drop database if exists $db with (force)" -c "create database $db" >/dev/null
for m in migrations/*.sql; do psql "$PG_URL/$db" -q -v ON_ERROR_STOP=1 -f "$m" >/dev/null; done
rm -rf .sqlx && mkdir .sqlx
touch app/src/lib.rs # make the query macros run again
SQLX_OFFLINE=false SQLX_OFFLINE_DIR="$ROOT/.sqlx" DATABASE_URL="$PG_URL/$db" \
  cargo check --release --workspace --all-targets
echo "$(ls .sqlx | wc -l) queries in .sqlx/"
