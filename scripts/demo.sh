#!/usr/bin/env bash
# The main job on its embedded default: starts a throwaway PostgreSQL (scripts/services.sh), builds the silo,
# and runs one local silo that captures a demo "orders" workload into ./.lake, with the dashboard on
# http://localhost:5080. Ctrl+C stops it. Arguments go to the demo: --rate N, --duration SECONDS, --lake DIR,
# --urls URL, or any Saiki setting as --Saiki:Section:Key=value.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/services.sh install postgres
eval "$(scripts/services.sh start postgres)"
dotnet build src/Silo/Silo.csproj -c Release -nologo -v quiet
# Optimized code from the first seconds on, as the Helm chart runs the silo (see src/Silo/Silo.csproj).
export DOTNET_TC_CallCountingDelayMs="${DOTNET_TC_CallCountingDelayMs:-0}"
exec dotnet src/Silo/bin/Release/net10.0/Saiki.Orleans.Silo.dll demo "$@"
