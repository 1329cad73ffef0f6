#!/usr/bin/env bash
# Prepares this checkout on a Debian 12 machine: installs what is missing (Chromium and ffmpeg from
# Debian's packages, the wasm32-wasip2 Rust target, the page libraries from npm by lockfile), then
# builds the built-in plugins into .kiln/plugins and the `kiln` host. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf '\033[1msetup:\033[0m %s\n' "$*" >&2; }

# System packages. Chromium is run from /usr/lib/chromium (not the /usr/bin wrapper script).
missing=()
[ -x /usr/lib/chromium/chromium ] || missing+=(chromium)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
command -v npm >/dev/null || missing+=(npm)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf ] || missing+=(fonts-dejavu-core)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        say "installing ${missing[*]} from Debian's packages"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        say "missing: ${missing[*]}. Run as root, or: sudo apt-get update && sudo apt-get install -y ${missing[*]}"
        exit 1
    fi
fi

# The target plugins are built for, and the one the bundle plugin's KidLisp player is built for
# (plugins/bundle/build.rs: the page's WebAssembly module, instantiated with no imports).
for target in wasm32-wasip2 wasm32-unknown-unknown; do
    if ! rustup target list --installed | grep -qx "$target"; then
        say "adding the $target Rust target"
        rustup target add "$target"
    fi
done

# Page libraries (p5 2.x and 1.x), exactly as host/web/package-lock.json pins them.
stamp=host/web/node_modules/.kiln-installed-lock
if ! cmp -s host/web/package-lock.json "$stamp" 2>/dev/null; then
    say "installing page libraries from npm"
    npm ci --prefix host/web --no-audit --no-fund --loglevel=error
    cp host/web/package-lock.json "$stamp"
fi

# Comic Relief Bold for the card plugins, exactly as cards/fonts/package-lock.json pins it (the
# kiln-cards crate embeds it, and DejaVu Sans Mono from fonts-dejavu-core, when it is built).
stamp=cards/fonts/node_modules/.kiln-installed-lock
if ! cmp -s cards/fonts/package-lock.json "$stamp" 2>/dev/null; then
    say "installing the card fonts from npm"
    npm ci --prefix cards/fonts --no-audit --no-fund --loglevel=error
    cp cards/fonts/package-lock.json "$stamp"
fi

say "building the plugins (wasm32-wasip2)"
cargo build --quiet --target wasm32-wasip2 --release -p kiln-plugin-p5 -p kiln-plugin-js -p kiln-plugin-video -p kiln-plugin-kidlisp -p kiln-plugin-kidlisp-og -p kiln-plugin-notepat-og -p kiln-plugin-url -p kiln-plugin-bundle
mkdir -p .kiln/plugins
cp target/wasm32-wasip2/release/kiln_plugin_p5.wasm .kiln/plugins/p5.wasm
cp target/wasm32-wasip2/release/kiln_plugin_js.wasm .kiln/plugins/js.wasm
cp target/wasm32-wasip2/release/kiln_plugin_video.wasm .kiln/plugins/video.wasm
cp target/wasm32-wasip2/release/kiln_plugin_kidlisp.wasm .kiln/plugins/kidlisp.wasm
cp target/wasm32-wasip2/release/kiln_plugin_kidlisp_og.wasm .kiln/plugins/kidlisp-og.wasm
cp target/wasm32-wasip2/release/kiln_plugin_notepat_og.wasm .kiln/plugins/notepat-og.wasm
cp target/wasm32-wasip2/release/kiln_plugin_url.wasm .kiln/plugins/url.wasm
cp target/wasm32-wasip2/release/kiln_plugin_bundle.wasm .kiln/plugins/bundle.wasm

say "building kiln and kiln-bench (which \`kiln bench\` runs)"
cargo build --quiet -p kiln -p kiln-bench
say "ready: target/debug/kiln (plugins in .kiln/plugins)"
