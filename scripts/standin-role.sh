#!/usr/bin/env bash
# Plays the customer's IAM console in the demo world of scripts/run.sh: creates (or updates) the
# role NAME with the trust policy read from standard input, gives it Crossview's read-write
# permissions, and prints its ARN to paste into Crossview.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 1 ] || { echo "usage: $0 ROLE_NAME < trust-policy.json" >&2; exit 2; }
[ -f "$ROOT/.data/demo.env" ] || { echo "start the demo first: scripts/run.sh" >&2; exit 1; }
# shellcheck disable=SC1091
source "$ROOT/.data/demo.env"
[ -t 0 ] && echo "Paste the trust policy from Crossview's page, then press Ctrl-D:" >&2
policy=$(cat)
permissions='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'
python3 "$ROOT/scripts/aws_world.py" role --name "$1" --trust-policy "$policy" --permissions "$permissions"
