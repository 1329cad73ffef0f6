#!/usr/bin/env bash
# Checks the deploy files with what runs without Docker or a cluster: `bash -n` on the scripts,
# `systemd-analyze verify` on the units (against this checkout's kiln binary), a YAML parse of
# the compose file and manifests, and Kubernetes schema validation (kubernetes-validate from
# PyPI, in a virtual environment under .kiln/). What it cannot run is listed in
# docs/operations.md, "Deploy files".
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1mdeploy:\033[0m %s\n' "$*" >&2; }

say "bash -n on the scripts"
for script in deploy/dev/setup.sh deploy/check.sh tests/run.sh .ci/run; do
    bash -n "$script"
done

say "systemd-analyze verify"
if ! command -v systemd-analyze >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        say "installing systemd (for systemd-analyze) from Debian's packages"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd >/dev/null
    else
        say "missing systemd-analyze. Run as root, or: sudo apt-get install -y systemd"
        exit 1
    fi
fi
kiln_binary="$PWD/target/debug/kiln"
[ -x "$kiln_binary" ] || cargo build --quiet -p kiln
units=$(mktemp -d)
trap 'rm -rf "$units"' EXIT
sed "s#/usr/local/bin/kiln#$kiln_binary#" deploy/systemd/kiln.service >"$units/kiln.service"
sed "s#/usr/local/bin/kiln#$kiln_binary#" deploy/systemd/kiln-worker@.service >"$units/kiln-worker@.service"
cp "$units/kiln-worker@.service" "$units/kiln-worker@1.service"
out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$units/kiln.service" "$units/kiln-worker@1.service" 2>&1 || true)
# Only lines about our units count (verify also reports on unrelated units of the machine).
ours=$(printf '%s\n' "$out" | grep -E "^($units/)?(kiln|kiln-worker@1)\.service" || true)
if [ -n "$ours" ]; then
    printf '%s\n' "$ours" >&2
    exit 1
fi

venv=.kiln/deploy-venv
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
    say "installing kubernetes-validate into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'kubernetes-validate==1.31.0' 'PyYAML==6.0.2'
fi

say "YAML parse of the compose file and manifests"
"$venv/bin/python" - deploy/compose.yaml deploy/kubernetes/*.yaml <<'PY'
import sys, yaml
for path in sys.argv[1:]:
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    if not docs:
        sys.exit(f"{path}: no YAML documents")
    if path.endswith("compose.yaml"):
        services = docs[0].get("services", {})
        for name in ("api", "worker", "redis", "minio"):
            if name not in services:
                sys.exit(f"{path}: no service {name!r}")
PY

say "Kubernetes schema validation (1.31)"
for manifest in deploy/kubernetes/*.yaml; do
    # KEDA's ScaledObject is a custom resource: its schema is not Kubernetes's.
    "$venv/bin/kubernetes-validate" --quiet --kubernetes-version 1.31.0 --strict "$manifest"
done
say "deploy files check out"
