#!/usr/bin/env bash
# Benchmarks against real services on this machine, one subcommand per benchmark.
#
# Usage: scripts/bench.sh postgres|downstream|monitoring|dynamodb [options]
#   postgres    starts a throwaway PostgreSQL (scripts/services.sh), builds the silo and the benchmark in Release,
#               and in one run compares Saiki with PostgreSQL's own tools: 1,000,000 row changes through
#               pg_recvlogical vs. Saiki's capture into durable lake files (warm: a running silo resumes a paused
#               source with the changes waiting; cold: the silo itself starts with them waiting), a 5,000,000-row table through one
#               COPY ... TO STDOUT vs. Saiki's parallel snapshot, p50/p99 commit-to-durable latency at a steady
#               5,000 rows/s, and the silo's peak memory. Options: `scripts/bench.sh postgres --help`.
#   downstream  starts s3rver (scripts/services.sh), builds the benchmark in Release and, in process, compares
#               Saiki's lake writes (1,000,000 changes of 4 partitions as 50,000-change files: encode, put,
#               manifest entry) with a loop of S3 PutObject of the same bytes, and Saiki's Kafka publisher
#               (500,000 changes, file-sized batches) with a plain Confluent.Kafka producer loop, on librdkafka's
#               mock cluster. Options: `scripts/bench.sh downstream --help`.
#   monitoring  builds the benchmark in Release and, in process, routes cleansed change events through process
#               monitoring (step matching, business keys, per-partition engines, watermarks) holding 100,000 open
#               instances: memory per open instance and events/s (bpm_bytes_per_open_instance, bpm_events_per_s).
#   dynamodb    restarts DynamoDB Local empty (scripts/services.sh), builds the silo and the benchmark in Release, writes
#               50,000 changes to a table with a stream, reads them with a plain GetRecords loop (the baseline), then
#               captures the same stream with the shipped silo into durable lake files (dynamodb_rows_per_s,
#               getrecords_rows_per_s, dynamodb_ratio_vs_getrecords). Options: `scripts/bench.sh dynamodb --help`.
#
# Progress goes to stderr; stdout ends with machine-readable name=value lines (error=... for a part that
# failed, whose numbers are then NA). Exit status: 0 all parts ran, 1 a part failed, 2 usage error.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The comment block above, without its leading '# '.
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }
bench_dll=tests/Saiki.Orleans.Bench/bin/Release/net10.0/Saiki.Orleans.Bench.dll

bench=${1:-}
[ $# -gt 0 ] && shift
case $bench in
  postgres)
    if [[ " $* " =~ \ (-h|--help)\  ]]; then
      dotnet build tests/Saiki.Orleans.Bench/Saiki.Orleans.Bench.csproj -c Release -nologo -v quiet >&2
      exec dotnet "$bench_dll" postgres --help
    fi
    scripts/services.sh install postgres
    eval "$(scripts/services.sh start postgres)"
    # Built separately and quietly: a full solution build would also compile the tests, which the benchmark does not run.
    dotnet build src/Silo/Silo.csproj -c Release -nologo -v quiet >&2
    dotnet build tests/Saiki.Orleans.Bench/Saiki.Orleans.Bench.csproj -c Release -nologo -v quiet >&2
    exec dotnet "$bench_dll" postgres \
      --silo src/Silo/bin/Release/net10.0/Saiki.Orleans.Silo.dll "$@"
    ;;
  downstream)
    if [[ " $* " =~ \ (-h|--help)\  ]]; then
      dotnet build tests/Saiki.Orleans.Bench/Saiki.Orleans.Bench.csproj -c Release -nologo -v quiet >&2
      exec dotnet "$bench_dll" downstream --help
    fi
    scripts/services.sh install s3
    # Exports SAIKI_S3_URL, the S3 keys and SSL_CERT_FILE (s3rver's self-signed certificate for .NET).
    eval "$(scripts/services.sh start s3)"
    dotnet build tests/Saiki.Orleans.Bench/Saiki.Orleans.Bench.csproj -c Release -nologo -v quiet >&2
    exec dotnet "$bench_dll" downstream "$@"
    ;;
  monitoring)
    dotnet build tests/Saiki.Orleans.Bench/Saiki.Orleans.Bench.csproj -c Release -nologo -v quiet >&2
    exec dotnet "$bench_dll" monitoring "$@"
    ;;
  dynamodb)
    scripts/services.sh install dynamodb
    # DynamoDB Local slows down as its in-memory store fills (10,000 writes took 9 s fresh, 490 s after a few
    # hundred thousand): start it empty so both readers see the same, fresh server.
    scripts/services.sh stop dynamodb >&2
    eval "$(scripts/services.sh start dynamodb)"
    dotnet build src/Silo/Silo.csproj -c Release -nologo -v quiet >&2
    dotnet build tests/Saiki.Orleans.Bench/Saiki.Orleans.Bench.csproj -c Release -nologo -v quiet >&2
    exec dotnet "$bench_dll" dynamodb --silo src/Silo/bin/Release/net10.0/Saiki.Orleans.Silo.dll "$@"
    ;;
  -h|--help|help) usage ;;
  *)
    [ -n "$bench" ] && echo "bench: unknown benchmark '$bench'" >&2
    usage >&2
    exit 2
    ;;
esac
