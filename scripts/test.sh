#!/usr/bin/env bash
# Runs the whole test suite against real services on loopback (PostgreSQL, DynamoDB Local, s3rver),
# installing and starting them first (scripts/services.sh). Extra arguments go to `dotnet test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/services.sh install
eval "$(scripts/services.sh start)"
# Sources the tests leave registered keep their replication slots, and a slot keeps its WAL (gigabytes after a few
# runs against the same throwaway cluster). No test runs yet, so the tests' own slots (named saiki_<name>_<8 hex>)
# from earlier runs are stale; a slot in use (say, a running demo's) is never touched.
"$SAIKI_PG_BIN/psql" "host=127.0.0.1 port=$SAIKI_PG_PORT user=postgres dbname=postgres" -qAtc \
  "SELECT count(pg_drop_replication_slot(slot_name)) FROM pg_replication_slots
   WHERE NOT active AND slot_name ~ '^saiki_[a-z]+_[0-9a-f]{8}'" \
  | awk '$1 > 0 { print "tests: dropped " $1 " replication slots left by earlier runs" }'

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test Saiki.Orleans.sln -c Release "$@" 2>&1 | tee "$log" || status=$?

# One plain summary line over all test assemblies.
passed=$(sed -nE 's/.*Passed: +([0-9]+).*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
failed=$(sed -nE 's/.*Failed: +([0-9]+), Passed:.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
skipped=$(sed -nE 's/.*Skipped: +([0-9]+).*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "$status" -eq 0 ] && { [ "$passed" -eq 0 ] || [ "$failed" -ne 0 ] || [ "$skipped" -ne 0 ]; }; then
  status=1
fi
exit "$status"
