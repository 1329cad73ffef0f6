//! The house rules of the module layout, checked on the source: the top-level modules form a
//! layered graph with no import cycles, and the HTTP API and the service never reach into the
//! command line.
//!
//! An edge `a → b` is any `crate::b` path in a non-comment line of module `a`. The contract's
//! bindings name the host types that back WIT resources (wasmtime's `with`, as wasmtime-wasi's
//! bindings do); those `with` blocks are not imports of the capability and are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first. A module may import only from layers below its own.
const LAYERS: &[&[&str]] = &[
    &["error", "net"],
    &["contract"],
    &["jobs"],
    &["media"],
    &["storage"],
    &["browser"],
    &["sources"],
    &["plugins", "queue"],
    &["schedule"],
    &["config"],
    &["runner"],
    &["kiln"],
    &["service"],
    &["api"],
    &["cli"],
];

fn src() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            rust_files(&entry.unwrap().path(), out);
        }
    } else if path.is_file() && path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

/// The source without comments and without bindgen's `with: { … }` blocks.
fn code_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut in_with = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("with: {") {
            in_with = true;
        }
        if in_with {
            if trimmed.starts_with("},") {
                in_with = false;
            }
            continue;
        }
        if !trimmed.starts_with("//") {
            lines.push(line);
        }
    }
    lines
}

/// Top-level module → the top-level modules it names.
fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let modules: BTreeSet<&str> = LAYERS.iter().flat_map(|l| l.iter().copied()).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for module in &modules {
        let mut files = Vec::new();
        rust_files(&src().join(module), &mut files);
        rust_files(&src().join(format!("{module}.rs")), &mut files);
        assert!(!files.is_empty(), "no source for module {module}");
        let targets = graph.entry(module.to_string()).or_default();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for line in code_lines(&text) {
                for (i, _) in line.match_indices("crate::") {
                    let rest = &line[i + "crate::".len()..];
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    let preceded_by_dollar = line[..i].ends_with('$');
                    if modules.contains(name.as_str()) && name != *module && !preceded_by_dollar {
                        targets.insert(name);
                    }
                }
            }
        }
    }
    graph
}

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| l.contains(&module))
        .unwrap_or_else(|| panic!("{module} is in no layer"))
}

#[test]
fn every_top_level_module_has_a_layer() {
    for entry in std::fs::read_dir(src()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let module = name.trim_end_matches(".rs");
        if ["lib", "main", "layering"].contains(&module) {
            continue;
        }
        layer_of(module);
    }
}

#[test]
fn modules_import_only_from_lower_layers() {
    let mut upward = Vec::new();
    for (module, targets) in edges() {
        for target in targets {
            if layer_of(&target) >= layer_of(&module) {
                upward.push(format!("{module} → {target}"));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that go sideways or upward (a cycle waiting to happen): {upward:?}; move the \
         shared piece down a layer or invert the dependency (see docs/architecture.md)"
    );
}

#[test]
fn the_api_and_the_service_never_import_the_command_line() {
    let graph = edges();
    for module in ["api", "service"] {
        assert!(!graph[module].contains("cli"), "{module} imports cli");
    }
}
