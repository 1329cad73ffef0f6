//! GPU pools: whether this machine has a GPU Chromium can use, the flags a GPU browser gets,
//! and which jobs go to it.
//!
//! Every browser of the CPU pool runs with `--disable-gpu`: WebGL there is SwiftShader, in
//! software. With `browser.gpu = "auto"` (the default) and a usable device, or `"on"`, the host
//! also starts `browser.gpu_processes` browsers without it, with hardware WebGL, and jobs that
//! use WebGL run there; everything else stays on the CPU pool. `"off"` never starts one.
//!
//! Detection looks for a DRM render node (`/dev/dri/renderD*`: Intel, AMD, and NVIDIA with its
//! DRM driver) or NVIDIA's device files (`/dev/nvidia0` with `/dev/nvidiactl`), readable and
//! writable by this process. Which jobs use WebGL is read from the job's input before it runs:
//! an input field `gpu: true`, or any text in it naming `WEBGL` (p5's `createCanvas(w, h,
//! WEBGL)`) or `webgl` (`getContext('webgl')`, `'webgl2'`). A job the heuristic misses still
//! renders, on SwiftShader.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Whether the host runs a GPU pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GpuMode {
    /// When a usable device is found.
    #[default]
    Auto,
    /// Never.
    Off,
    /// Always (a browser that cannot use the device falls back to software in Chromium itself).
    On,
}

/// The flags a GPU browser gets instead of `--disable-gpu`: ANGLE over EGL, the GPU blocklist
/// ignored (headless servers are often on it), rasterisation on the GPU. Not yet run on a
/// machine with a GPU (docs/operations.md, "GPU pools").
pub const GPU_FLAGS: &[&str] = &[
    "use-angle=gl-egl",
    "ignore-gpu-blocklist",
    "enable-gpu-rasterization",
    "enable-webgl",
];

/// What detection found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detection {
    /// A device a browser can use, named.
    Found(String),
    /// None, and why.
    None(String),
}

/// Looks for a usable GPU under `dev` (`/dev` on a real machine).
pub fn detect(dev: &Path) -> Detection {
    let usable = |path: &Path| {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .is_ok()
    };
    let mut render_nodes: Vec<PathBuf> = std::fs::read_dir(dev.join("dri"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("renderD"))
                })
                .collect()
        })
        .unwrap_or_default();
    render_nodes.sort();
    let mut unusable = Vec::new();
    for node in render_nodes {
        if usable(&node) {
            return Detection::Found(format!("DRM render node {}", node.display()));
        }
        unusable.push(node.display().to_string());
    }
    let (nvidia, control) = (dev.join("nvidia0"), dev.join("nvidiactl"));
    if nvidia.exists() && control.exists() {
        if usable(&nvidia) && usable(&control) {
            return Detection::Found(format!("NVIDIA device {}", nvidia.display()));
        }
        unusable.push(nvidia.display().to_string());
    }
    Detection::None(if unusable.is_empty() {
        format!(
            "no GPU: no render node under {} and no {}",
            dev.join("dri").display(),
            nvidia.display()
        )
    } else {
        format!(
            "no usable GPU: this process cannot open {} (add its user to the render or video \
             group)",
            unusable.join(", ")
        )
    })
}

/// Whether a job with this input (JSON) asks for WebGL: `gpu: true` at its top level, or a
/// text anywhere in it naming `WEBGL` or `webgl`.
pub fn wants_gpu(input_json: &str) -> bool {
    let Ok(input) = serde_json::from_str::<serde_json::Value>(input_json) else {
        return false;
    };
    if input.get("gpu") == Some(&serde_json::Value::Bool(true)) {
        return true;
    }
    fn names_webgl(value: &serde_json::Value) -> bool {
        match value {
            serde_json::Value::String(text) => text.contains("WEBGL") || text.contains("webgl"),
            serde_json::Value::Array(items) => items.iter().any(names_webgl),
            serde_json::Value::Object(fields) => fields.values().any(names_webgl),
            _ => false,
        }
    }
    names_webgl(&input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_finds_render_nodes_and_nvidia_devices_it_can_open() {
        let dev = tempfile::tempdir().unwrap();
        let found = detect(dev.path());
        assert!(
            matches!(&found, Detection::None(why) if why.starts_with("no GPU")),
            "{found:?}"
        );

        std::fs::create_dir(dev.path().join("dri")).unwrap();
        std::fs::write(dev.path().join("dri/card0"), "").unwrap();
        assert!(matches!(detect(dev.path()), Detection::None(_)));
        std::fs::write(dev.path().join("dri/renderD128"), "").unwrap();
        assert_eq!(
            detect(dev.path()),
            Detection::Found(format!(
                "DRM render node {}",
                dev.path().join("dri/renderD128").display()
            ))
        );

        let nvidia = tempfile::tempdir().unwrap();
        std::fs::write(nvidia.path().join("nvidia0"), "").unwrap();
        assert!(matches!(detect(nvidia.path()), Detection::None(_)));
        std::fs::write(nvidia.path().join("nvidiactl"), "").unwrap();
        assert!(matches!(detect(nvidia.path()), Detection::Found(d) if d.starts_with("NVIDIA")));
    }

    #[test]
    fn this_machine_is_judged_without_failing() {
        // CPU-only here: says why. On a machine with a GPU: names it.
        match detect(Path::new("/dev")) {
            Detection::Found(device) => assert!(!device.is_empty()),
            Detection::None(why) => assert!(why.contains("GPU"), "{why}"),
        }
    }

    #[test]
    fn webgl_jobs_are_told_from_the_rest() {
        for gpu in [
            r#"{"code": "function setup() { createCanvas(100, 100, WEBGL); }"}"#,
            r#"{"javascript": "const gl = c.getContext('webgl2');"}"#,
            r#"{"html": "<canvas></canvas>", "gpu": true}"#,
            r#"{"sources": {"main": ["x", "getContext(\"webgl\")"]}}"#,
        ] {
            assert!(wants_gpu(gpu), "{gpu}");
        }
        for cpu in [
            r#"{"code": "function setup() { createCanvas(100, 100); }"}"#,
            r#"{"html": "<canvas></canvas>", "gpu": false}"#,
            r#"{"gpu": "true"}"#,
            "not json",
        ] {
            assert!(!wants_gpu(cpu), "{cpu}");
        }
    }
}
