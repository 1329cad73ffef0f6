#!/usr/bin/env bash
# The whole test suite: formatting, lints (host and plugins), unit tests, and the end-to-end tests
# against real Chromium with the real plugins. Installs and builds what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/dev/setup.sh
step() { printf '\033[1mtests:\033[0m %s\n' "$*" >&2; }

# The tests start their own redis-server on loopback, and read animated WebP back with webpmux
# (ffmpeg 5.1 cannot); the example clients they run need curl and redis-cli: all from Debian's
# packages.
missing=()
[ -x /usr/bin/redis-server ] || missing+=(redis-server)
command -v redis-cli >/dev/null || missing+=(redis-tools)
command -v webpmux >/dev/null || missing+=(webp)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        step "installing ${missing[*]} from Debian's packages"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        step "missing: ${missing[*]}. Run as root, or: sudo apt-get install -y ${missing[*]}"
        exit 1
    fi
fi

# moto's S3-compatible server for tests/e2e/storage.rs, from PyPI in a virtual environment of its
# own. python3-venv comes from Debian's packages when venv creation fails (as root; otherwise the
# command to run is printed).
venv=.kiln/test-venv
if [ ! -x "$venv/bin/moto_server" ]; then
    step "installing moto[server] into $venv"
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        rm -rf "$venv"
        if [ "$(id -u)" = 0 ]; then
            step "installing python3-venv from Debian's packages"
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
            python3 -m venv "$venv"
        else
            step "python3 -m venv failed. Run as root, or: sudo apt-get update && sudo apt-get install -y python3-venv"
            exit 1
        fi
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.2.5'
fi
export KILN_TEST_MOTO_SERVER="$PWD/$venv/bin/moto_server"

# Azurite's Azure Blob Storage emulator for tests/e2e/storage.rs, from npm (setup.sh installed npm).
azurite=.kiln/test-azurite
if [ ! -x "$azurite/node_modules/.bin/azurite-blob" ]; then
    step "installing azurite into $azurite"
    npm install --prefix "$azurite" --save-exact --no-audit --no-fund --loglevel=error azurite@3.35.0
fi
export KILN_TEST_AZURITE="$PWD/$azurite/node_modules/.bin/azurite-blob"

TEST_PLUGINS=(-p kiln-plugin-p5 -p kiln-plugin-js -p kiln-plugin-video -p kiln-plugin-kidlisp -p kiln-plugin-kidlisp-og -p kiln-plugin-notepat-og -p kiln-plugin-url -p kiln-plugin-bundle -p kiln-test-plugin-hostile -p kiln-test-plugin-trap-describe -p kiln-test-plugin-bad-schema -p kiln-test-plugin-contract-v1-0-0 -p kiln-test-plugin-contract-v1-1-0 -p kiln-test-plugin-pixels -p kiln-test-plugin-sources-probe)
step "building the test plugins"
cargo build --quiet --target wasm32-wasip2 --release "${TEST_PLUGINS[@]}"

# Unused dependencies: cargo-machete reads each crate's sources for the crates its Cargo.toml
# names and exits non-zero on one that nothing uses. From crates.io, pinned, once.
if ! command -v cargo-machete >/dev/null; then
    step "installing cargo-machete from crates.io"
    cargo install --locked --quiet cargo-machete@0.9.2
fi
step "cargo machete (unused dependencies)"
cargo machete

step "cargo fmt --check"
cargo fmt --all --check
cargo fmt --manifest-path examples/poster-card/Cargo.toml --check

step "clippy (host and SDK, then plugins for wasm32-wasip2)"
# `--all-targets` leaves out test targets marked `test = false`: the end-to-end binary is linted
# by a line of its own.
cargo clippy --quiet -p kiln -p kiln-sdk -p kidlisp -p kiln-frame-checks -p kiln-cards -p kiln-test-support -p kiln-bench --all-targets -- -D warnings
# Named on its own: with `--all-targets` and several packages, cargo left this target unlinted
# (three unused imports went through).
cargo clippy --quiet -p kiln --test e2e -- -D warnings
cargo clippy --quiet --target wasm32-wasip2 --release "${TEST_PLUGINS[@]}" -- -D warnings
# The libraries the plugins share, and the bundle's KidLisp player as the page loads it.
cargo clippy --quiet -p kiln-js-document -p kiln-kidlisp-player --all-targets -- -D warnings
cargo clippy --quiet --target wasm32-unknown-unknown -p kiln-kidlisp-player -- -D warnings
# The third-party example is its own crate, as an outside author's would be (tests build it
# again, in their own target dir, and drop it into a running host).
CARGO_TARGET_DIR="$PWD/target" cargo clippy --quiet --target wasm32-wasip2 --release \
  --manifest-path examples/poster-card/Cargo.toml -- -D warnings

step "deploy files (bash -n, systemd-analyze verify, YAML and Kubernetes schemas)"
deploy/check.sh

step "the SDK packages with its WIT inside"
cargo package --quiet -p kiln-sdk --allow-dirty >/dev/null
tar tzf "target/package/kiln-sdk-$(cargo pkgid -p kiln-sdk | sed 's/.*[#@]//').crate" | grep -q '/wit/world.wit'

# One package list for every `cargo test` here, so no call rebuilds what another built.
TEST_PACKAGES=(-p kiln -p kiln-bench -p kiln-sdk -p kidlisp -p kiln-frame-checks -p kiln-cards -p kiln-plugin-p5 -p kiln-plugin-js -p kiln-plugin-video -p kiln-plugin-kidlisp -p kiln-plugin-kidlisp-og -p kiln-plugin-notepat-og -p kiln-plugin-url -p kiln-plugin-bundle -p kiln-kidlisp-player -p kiln-js-document)

step "unit tests"
cargo test "${TEST_PACKAGES[@]}"

# The end-to-end tests are one binary (tests/e2e) with a module per area. Each module runs in a
# process of its own: several count the processes their own test process started, and keep a
# Kiln for all their tests. Modules are read from the binary's own list, so a new one runs too.
step "end-to-end tests (tests/e2e), one process per module"
cargo test "${TEST_PACKAGES[@]}" --test e2e --no-run
mapfile -t e2e_tests < <(cargo test --quiet "${TEST_PACKAGES[@]}" --test e2e -- --list --format terse 2>/dev/null | sed -n 's/: test$//p')
[ ${#e2e_tests[@]} -gt 0 ] || { step "tests/e2e lists no tests"; exit 1; }
mapfile -t e2e_modules < <(printf '%s\n' "${e2e_tests[@]}" | cut -d: -f1 | sort -u)
# Every module runs even when one fails, so one CI run shows every failure; the suite fails at
# the end, naming the modules that did.
failed=()
for module in "${e2e_modules[@]}"; do
    mapfile -t names < <(printf '%s\n' "${e2e_tests[@]}" | grep "^$module::")
    step "e2e: $module (${#names[@]} tests)"
    cargo test "${TEST_PACKAGES[@]}" --test e2e -- --exact "${names[@]}" || failed+=("$module")
done
CARGO_TARGET_DIR="$PWD/target" cargo test --quiet --manifest-path examples/poster-card/Cargo.toml

if [ ${#failed[@]} -gt 0 ]; then
    step "end-to-end modules that failed: ${failed[*]}"
    exit 1
fi
