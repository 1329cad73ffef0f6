//! The author's tools, as an outside author uses them: `kiln plugin new` scaffolds a crate that
//! builds, `kiln plugin build` builds and checks it, several versions of it load side by side and
//! jobs can pin one, and `kiln plugin check` explains a bad file.

use kiln_test_support::*;
use serde_json::json;
use std::path::Path;
use std::process::Output;

fn kiln(data: &Path, args: &[&str]) -> Output {
    kiln_command(data)
        .args(args)
        .env("CARGO_TARGET_DIR", author_target_dir())
        .output()
        .expect("kiln runs")
}

#[test]
fn a_scaffolded_plugin_builds_loads_in_two_versions_and_renders() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    // Not created here: `plugin build --out` creates it.
    let plugins = data.join("plugins");
    let dir = work.path().to_str().unwrap();

    // By default the crate names kiln-sdk by version only, as one outside this tree would.
    let plain = work.path().join("plain");
    let new = kiln(
        &data,
        &["plugin", "new", "badge", "--dir", plain.to_str().unwrap()],
    );
    assert!(
        new.status.success(),
        "{}",
        String::from_utf8_lossy(&new.stderr)
    );
    let manifest = std::fs::read_to_string(plain.join("badge/Cargo.toml")).unwrap();
    let version = format!("kiln-sdk = \"{}\"", env!("CARGO_PKG_VERSION"));
    assert!(manifest.contains(&version), "{manifest}");
    assert!(!manifest.contains("path ="), "{manifest}");

    // kiln-sdk is not on crates.io yet: this one takes it from the source tree (`--sdk`).
    let new = kiln(&data, &["plugin", "new", "badge", "--dir", dir, "--sdk"]);
    assert!(
        new.status.success(),
        "{}",
        String::from_utf8_lossy(&new.stderr)
    );
    let crate_dir = work.path().join("badge");
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("[patch.crates-io]"), "{manifest}");
    let crate_str = crate_dir.to_str().unwrap();

    // Version 0.1.0, built, checked and installed, then kept under another name.
    let built = kiln(
        &data,
        &[
            "plugin",
            "build",
            crate_str,
            "--out",
            plugins.to_str().unwrap(),
        ],
    );
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let report = stdout_json(&built);
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["plugin"]["name"], "badge");
    assert_eq!(report["plugin"]["granted"], json!(["media", "storage"]));
    let wasm = report["plugin"]["path"].as_str().unwrap().to_string();

    // Its own job cases, run on a real host: the scaffold's pass, and a wrong expectation fails
    // the run, naming what differed.
    let cases = crate_dir.join("tests/jobs");
    let tested = kiln(&data, &["plugin", "test", &wasm, cases.to_str().unwrap()]);
    assert!(
        tested.status.success(),
        "{}",
        String::from_utf8_lossy(&tested.stderr)
    );
    let report = stdout_json(&tested);
    assert_eq!(
        (report["passed"].as_u64(), report["failed"].as_u64()),
        (Some(2), Some(0)),
        "{report}"
    );
    let wrong = work.path().join("wrong.json");
    std::fs::write(
        &wrong,
        r#"{"input": {"text": "hello"}, "expect": {"artifacts": ["badge.png"], "contains": {"badge.svg": "goodbye"}}}"#,
    )
    .unwrap();
    let tested = kiln(&data, &["plugin", "test", &wasm, wrong.to_str().unwrap()]);
    assert_eq!(tested.status.code(), Some(1));
    let report = stdout_json(&tested);
    let problems: Vec<&str> = report["cases"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(
        problems,
        [
            r#"expected artifacts ["badge.png"], got ["badge.svg"]"#,
            r#"badge.svg does not contain "goodbye""#
        ],
        "{report}"
    );
    let installed = plugins.join(std::path::Path::new(&wasm).file_name().unwrap());
    std::fs::rename(installed, plugins.join("badge-0.1.0.wasm")).unwrap();

    // Version 0.2.0, installed into the plugin directory by `--out`.
    let manifest = crate_dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replacen("version = \"0.1.0\"", "version = \"0.2.0\"", 1),
    )
    .unwrap();
    let built = kiln(
        &data,
        &[
            "plugin",
            "build",
            crate_str,
            "--out",
            plugins.to_str().unwrap(),
        ],
    );
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );

    let listed = stdout_json(&kiln(&data, &["plugins"]));
    let versions: Vec<&str> = listed["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == "badge")
        .map(|p| p["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, vec!["0.2.0", "0.1.0"], "{listed}");

    let latest = kiln(
        &data,
        &[
            "render",
            "--type",
            "badge",
            "--input",
            r#"{"text": "<hi>"}"#,
        ],
    );
    let outcome = stdout_json(&latest);
    assert_eq!(outcome["plugin"], "badge@0.2.0", "{outcome}");
    let svg_path = outcome["artifacts"][0]["url"].as_str().unwrap();
    let svg = std::fs::read_to_string(svg_path.strip_prefix("file://").unwrap()).unwrap();
    assert!(svg.contains("&lt;hi&gt;"), "{svg}");

    let pinned = kiln(
        &data,
        &[
            "render",
            "--type",
            "badge@0.1.0",
            "--input",
            r#"{"text": "x"}"#,
        ],
    );
    assert_eq!(stdout_json(&pinned)["plugin"], "badge@0.1.0");

    let missing = kiln(
        &data,
        &[
            "render",
            "--type",
            "badge@9.0.0",
            "--input",
            r#"{"text": "x"}"#,
        ],
    );
    let message = stdout_json(&missing)["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("loaded versions: 0.2.0, 0.1.0"),
        "{message}"
    );
}

#[test]
fn check_explains_a_file_the_host_would_refuse() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    std::fs::create_dir_all(data.join("plugins")).unwrap();
    let bad = work.path().join("bad.wasm");
    std::fs::write(&bad, b"\0asm\x01\0\0\0").unwrap();
    let checked = kiln(&data, &["plugin", "check", bad.to_str().unwrap()]);
    assert_eq!(checked.status.code(), Some(1));
    let report = stdout_json(&checked);
    assert_eq!(report["ok"], false);
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("core WebAssembly module"),
        "{report}"
    );

    let good = plugin_wasm("kiln_plugin_p5");
    let checked = kiln(&data, &["plugin", "check", good.to_str().unwrap()]);
    assert!(checked.status.success());
    assert_eq!(stdout_json(&checked)["plugin"]["name"], "p5");
}
