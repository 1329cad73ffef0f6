//! The `kiln` binary as a user runs it: render, batch, plugins.

use kiln_test_support::*;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Output;

fn kiln(dir: &Path, args: &[&str]) -> Output {
    kiln_command(dir)
        .args(args)
        .env("KILN_PAGES_PER_PROCESS", "2")
        .output()
        .expect("kiln runs")
}

#[test]
fn render_a_job_file_and_an_inline_job() {
    let dir = TestDir::new();
    let job = dir.path().join("job.json");
    let spec = json!({"id": "from-file", "type": "p5", "input": {"code": red_circle(100), "width": 100, "height": 100}});
    std::fs::write(&job, spec.to_string()).unwrap();

    let output = kiln(dir.path(), &["render", job.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result = stdout_json(&output);
    assert_eq!(result["status"], "succeeded");
    assert_eq!(result["plugin"], "p5@0.1.0");
    let url = result["artifacts"][0]["url"].as_str().unwrap();
    assert!(
        Path::new(url.strip_prefix("file://").unwrap()).exists(),
        "{url}"
    );

    let input = json!({"code": red_circle(50), "width": 50, "height": 50}).to_string();
    let output = kiln(
        dir.path(),
        &[
            "render", "--type", "p5", "--input", &input, "--id", "inline",
        ],
    );
    assert!(output.status.success());
    assert_eq!(
        stdout_json(&output)["artifacts"][0]["key"],
        "inline/image.png"
    );
}

#[test]
fn render_reports_bad_envelopes_as_json_with_exit_code_1() {
    let dir = TestDir::new();
    let job = dir.path().join("broken.json");
    std::fs::write(&job, "{\"type\": \"p5\", \"input\": ").unwrap();
    let output = kiln(dir.path(), &["render", job.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let result = stdout_json(&output);
    assert_eq!(result["error"]["kind"], "invalid-input");
    assert!(
        result["error"]["message"]
            .as_str()
            .unwrap()
            .contains("EOF while parsing"),
        "{result}"
    );

    let output = kiln(dir.path(), &["render", "--type", "p5", "--input", "{nope"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout_json(&output)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--input is not valid JSON")
    );
}

#[test]
fn batch_writes_artifacts_keeps_going_and_ends_with_a_summary() {
    let dir = TestDir::new();
    let jobs = dir.path().join("jobs.jsonl");
    let good = |id: Option<&str>| {
        let mut job =
            json!({"type": "p5", "input": {"code": red_circle(64), "width": 64, "height": 64}});
        if let Some(id) = id {
            job["id"] = json!(id);
        }
        job.to_string()
    };
    let bad = json!({"id": "bad", "type": "p5", "input": {"code": "function setup() { nope(); }", "width": 64, "height": 64}});
    let lines = [
        good(Some("a")),
        good(Some("b")),
        good(None),
        bad.to_string(),
        "{not json".to_string(),
    ];
    std::fs::write(&jobs, lines.join("\n") + "\n").unwrap();
    let out = dir.path().join("out");

    let output = kiln(
        dir.path(),
        &[
            "batch",
            jobs.to_str().unwrap(),
            "--concurrency",
            "2",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "a failed job makes the exit code 1"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().expect("a summary line");
    let summary: Value = serde_json::from_str(last).unwrap();
    assert_eq!(summary["jobs"], 5);
    assert_eq!(summary["ok"], 3);
    assert_eq!(summary["failed"], 2);
    for key in ["wall_s", "p50_ms", "p95_ms", "jobs_per_s"] {
        assert!(summary[key].as_f64().unwrap() > 0.0, "{key} in {summary}");
    }
    for file in ["a.png", "b.png", "line-3.png"] {
        let bytes = std::fs::read(out.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(image::load_from_memory(&bytes).unwrap().width(), 64);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("job bad failed: piece-failed"), "{stderr}");
    assert!(stderr.contains("line 5:"), "{stderr}");
}

#[test]
fn plugins_lists_schemas_uses_the_compile_cache_and_names_refused_files() {
    let dir = TestDir::new();
    std::fs::write(dir.path().join("plugins/garbage.wasm"), b"not wasm at all").unwrap();
    std::fs::write(dir.path().join("plugins/core.wasm"), b"\0asm\x01\0\0\0").unwrap();

    let first = stdout_json(&kiln(dir.path(), &["plugins"]));
    let p5 = first["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "p5")
        .expect("p5 is listed");
    assert_eq!(p5["input_schema"]["properties"]["code"]["type"], "string");
    assert_eq!(
        p5["input_schema"]["required"],
        json!(["code", "width", "height"])
    );
    assert_eq!(p5["compiled_from_cache"], false);
    let refused = first["refused"].as_array().unwrap();
    let reason = |file: &str| {
        refused
            .iter()
            .find(|r| r["path"].as_str().unwrap().ends_with(file))
            .map(|r| r["message"].as_str().unwrap().to_string())
    };
    assert!(
        reason("garbage.wasm")
            .unwrap()
            .contains("not a valid WebAssembly component"),
        "{refused:?}"
    );
    assert!(
        reason("core.wasm")
            .unwrap()
            .contains("core WebAssembly module, not a component"),
        "{refused:?}"
    );

    let second = stdout_json(&kiln(dir.path(), &["plugins"]));
    let p5 = second["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "p5")
        .unwrap();
    assert_eq!(p5["compiled_from_cache"], true);
}

#[test]
fn killing_kiln_takes_its_browser_with_it() {
    let dir = TestDir::new();
    let input = json!({"code": "async function setup() { await new Promise(() => {}); }", "width": 10, "height": 10});
    let mut child = kiln_command(dir.path())
        .args(["render", "--type", "p5", "--input", &input.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The browser is kiln's child; wait until it is up.
    let browser = (0..100)
        .find_map(|_| {
            std::thread::sleep(std::time::Duration::from_millis(100));
            children_of(child.id())
                .into_iter()
                .find(|pid| cmdline(*pid).contains("chromium"))
        })
        .expect("kiln started a browser");
    child.kill().unwrap(); // SIGKILL: no destructor, no shutdown code runs.
    child.wait().unwrap();
    let gone = (0..50).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        !running(browser)
    });
    assert!(gone, "browser {browser} outlived its kiln");
}

fn children_of(parent: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1));
            ppid == Some(&parent.to_string())
        })
        .collect()
}

fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

fn running(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    !stat.is_empty()
        && stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            != Some("Z")
}
