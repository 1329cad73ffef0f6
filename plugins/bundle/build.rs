//! Builds the KidLisp player (`plugins/bundle/player`: the `kidlisp` crate for
//! `wasm32-unknown-unknown`) and leaves it in `OUT_DIR` for `include_bytes!`.
//!
//! A nested `cargo build` is how one crate gets another's artifact for a different target: the
//! plugin is `wasm32-wasip2`, the page's module `wasm32-unknown-unknown` (no WASI imports, so a
//! browser instantiates it with none). It builds with the workspace's `player` profile into its
//! own target directory (`<target>/kidlisp-player`), beside the outer build's, so the two never
//! wait on each other's lock and a fresh clone needs no extra step.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(var("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir.join("../..");
    let out_dir = PathBuf::from(var("OUT_DIR"));
    // The outer target directory is the outermost ancestor Cargo marked as one (it marks
    // `<target>/<triple>` too), so native and wasm32-wasip2 builds share one player build.
    let target_root = out_dir
        .ancestors()
        .filter(|dir| dir.join("CACHEDIR.TAG").is_file())
        .last()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| out_dir.clone());
    let target_dir = target_root.join("kidlisp-player");
    for watched in [
        "plugins/bundle/player/src",
        "plugins/bundle/player/Cargo.toml",
        "kidlisp/src",
        "kidlisp/Cargo.toml",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }

    let mut cargo = Command::new(var("CARGO"));
    cargo
        .current_dir(&workspace)
        .args(["build", "--quiet", "-p", "kiln-kidlisp-player"])
        .args(["--target", "wasm32-unknown-unknown", "--profile", "player"])
        .arg("--target-dir")
        .arg(&target_dir);
    // What the outer build set for its own compilations (its target, clippy as a wrapper, its
    // flags) is not for this one.
    for outer in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_MAKEFLAGS",
    ] {
        cargo.env_remove(outer);
    }
    let status = cargo
        .status()
        .expect("running cargo for the KidLisp player");
    assert!(
        status.success(),
        "building the KidLisp player (plugins/bundle/player) for wasm32-unknown-unknown failed; \
         if the target is missing, run `rustup target add wasm32-unknown-unknown`"
    );
    let wasm = target_dir.join("wasm32-unknown-unknown/player/kiln_kidlisp_player.wasm");
    std::fs::copy(&wasm, out_dir.join("kidlisp-player.wasm"))
        .unwrap_or_else(|e| panic!("copying {}: {e}", wasm.display()));
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("cargo sets {name} for build scripts"))
}
