#!/usr/bin/env bash
# After a test run: no AWS credential may be in the database or in the logs. Scans a dump of the
# end-to-end database (the only one that outlives its tests) and every captured log for the
# shapes of temporary access key ids (ASIA…), long-term ones (AKIA…) and session tokens (FQoG…,
# IQoJ…), and for the stand-in's secret keys, which scripts/test.sh knows.
set -euo pipefail
dump_url=$1
shift
patterns='(ASIA|AKIA)[A-Z0-9]{16}|FQoG[A-Za-z0-9/+=]{20,}|IQoJ[A-Za-z0-9/+=]{20,}'
for secret in ${AWS_SECRET_ACCESS_KEY:-} ${CROSSVIEW_STANDIN_ADMIN_SECRET:-}; do
  patterns="$patterns|$(printf '%s' "$secret" | sed 's/[][\.*^$/+?(){}|]/\\&/g')"
done
found=0
if pg_dump --data-only "$dump_url" | grep -Eo "$patterns" | head -3 | grep .; then
  echo "credential-shaped text in the database dump" >&2
  found=1
fi
for log in "$@"; do
  # The stand-in's own logs hold the keys it issued by design; Crossview's may not.
  if grep -Eo "$patterns" "$log" | head -3 | grep .; then
    echo "credential-shaped text in $log" >&2
    found=1
  fi
done
[ "$found" = 0 ] && echo "no AWS credential in the database dump or the logs"
exit "$found"
