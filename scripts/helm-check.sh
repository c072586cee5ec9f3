#!/usr/bin/env bash
# Validates the Helm chart in helm/saiki offline (helm cannot be installed on this project's machines):
# yamllint, the values schema, rendering of every helm/saiki/ci/*.yaml, Kubernetes OpenAPI schemas with no
# unknown field, structural checks across the objects, and negative cases that must be rejected.
# Rendered manifests go to helm/.check/out/. Idempotent; installs what it needs (apt as root, npm ci).
# See helm/saiki/README.md ("Lint") for what is checked, and for the helm/kubeconform commands to run where
# helm is available.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

check=helm/.check
say() { echo "helm-check: $*"; }
die() { echo "helm-check: FAILED: $*" >&2; exit 1; }

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null || die "apt-get install $* failed"
  fi
}

# 1. Tools: yamllint and node from Debian when missing, the checker's npm packages when the lock file changed.
if ! command -v yamllint >/dev/null; then
  say "installing yamllint (apt)"
  apt_install yamllint
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  say "installing nodejs and npm (apt)"
  apt_install nodejs npm
fi
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' \
  || die "node $(node --version) is too old; the checker needs node 18 or later"

stamp=$check/node_modules/.helm-check-lock.sha256
want=$(sha256sum "$check/package-lock.json" | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  say "installing npm packages (npm ci in $check)"
  (cd "$check" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null) \
    || die "npm ci in $check failed"
  echo "$want" >"$stamp"
fi

# 2. yamllint on the chart's plain YAML (templates are not YAML until rendered).
yamllint -c helm/.yamllint -s helm/saiki/Chart.yaml helm/saiki/values.yaml helm/saiki/ci/*.yaml "$check"/bad-values/*.yaml \
  || die "yamllint: the chart's YAML files have the problems listed above"
say "yamllint: Chart.yaml, values.yaml, ci/*.yaml, bad-values/*.yaml clean"

# The template renderer's own tests: the rendering below is only as good as it.
if ! out=$(node --test "$check"/lib/ 2>&1); then
  echo "$out" >&2
  die "the offline template renderer's self-tests failed ($check/lib/gotemplate.test.mjs)"
fi
say "template renderer self-tests: $(sed -nE 's/^# pass ([0-9]+)$/\1/p' <<<"$out") pass"

# 3-5. Values schema, rendering, Kubernetes schemas, structural checks, negative cases; writes $check/out/.
node "$check/check.mjs"

# Lint what the templates produced.
yamllint -c "$check/yamllint-rendered.yaml" -s "$check"/out/*.yaml \
  || die "yamllint: the rendered manifests in $check/out/ have the problems listed above"
say "yamllint: rendered manifests clean"

say ok
