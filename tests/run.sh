#!/usr/bin/env bash
# The whole test suite: formatting, lints (host and plugins), unit tests, and the end-to-end tests
# against real Chromium with the real plugins. Installs and builds what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/dev/setup.sh
step() { printf '\033[1mtests:\033[0m %s\n' "$*" >&2; }

step "building the test plugins"
cargo build --quiet --target wasm32-wasip2 --release -p kiln-plugin-p5 -p kiln-test-plugin-hostile

step "cargo fmt --check"
cargo fmt --all --check

step "clippy (host and SDK, then plugins for wasm32-wasip2)"
cargo clippy --quiet -p kiln -p kiln-sdk --all-targets -- -D warnings
cargo clippy --quiet --target wasm32-wasip2 --release -p kiln-plugin-p5 -p kiln-test-plugin-hostile -- -D warnings

step "unit and end-to-end tests"
cargo test -p kiln -p kiln-sdk -p kiln-plugin-p5
