//! The example clients in `examples/clients/` (curl, Node, Python, and the two Redis-only
//! protocols through redis-cli), each run as a user would run it against a live `kiln serve`,
//! rendering `examples/jobs/p5-hello.json`.

use kiln_test_support::processes::*;
use kiln_test_support::redis_server::RedisServer;
use kiln_test_support::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn clients_dir() -> PathBuf {
    workspace_dir().join("examples/clients")
}

fn job_file() -> PathBuf {
    workspace_dir().join("examples/jobs/p5-hello.json")
}

/// Runs `program args…` in the clients' folder with `env`; its output, after checking it
/// succeeded.
fn run_ok(program: &str, args: &[&Path], env: &[(&str, String)]) -> String {
    let output: Output = Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .current_dir(clients_dir())
        .output()
        .unwrap_or_else(|e| panic!("{program} did not start: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "{program} {args:?} failed:\n{text}"
    );
    text
}

/// The example's picture: 800², a red disc in the middle.
fn check_hello_png(path: &Path) {
    let image = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgba8();
    assert_eq!(image.dimensions(), (800, 800));
    assert_eq!(image.get_pixel(400, 400).0, [220, 30, 40, 255]);
}

#[test]
fn the_http_clients_render_the_example_job() {
    let dir = TestDir::new();
    let server = Server::start(dir.path(), "");
    let env = [("KILN_URL", server.url(""))];

    let out = dir.path().join("curl.png");
    let text = run_ok(
        "bash",
        &[
            &clients_dir().join("curl.sh"),
            &job_file(),
            Path::new("image.png"),
            &out,
        ],
        &env,
    );
    assert!(text.contains("curl.png"), "{text}");
    check_hello_png(&out);

    // Another seed (the same picture), so the result cache does not answer it and the client
    // follows the job's events.
    let mut job: serde_json::Value =
        serde_json::from_slice(&std::fs::read(job_file()).unwrap()).unwrap();
    job["input"]["seed"] = 43.into();
    let reseeded = dir.path().join("p5-hello-43.json");
    std::fs::write(&reseeded, job.to_string()).unwrap();
    let out = dir.path().join("node");
    let text = run_ok(
        "node",
        &[&clients_dir().join("client.mjs"), &reseeded, &out],
        &env,
    );
    assert!(text.contains("event succeeded"), "{text}");
    check_hello_png(&out.join("image.png"));

    let out = dir.path().join("python");
    let text = run_ok(
        "python3",
        &[&clients_dir().join("client.py"), &job_file(), &out],
        &env,
    );
    assert!(text.contains("wrote"), "{text}");
    check_hello_png(&out.join("image.png"));

    // A refused job is an error the caller sees, with Kiln's message.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"type": "p5", "input": {"width": 10}}"#).unwrap();
    let output = Command::new("python3")
        .args([clients_dir().join("client.py").as_path(), &bad, dir.path()])
        .env("KILN_URL", server.url(""))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Kiln refused the job (422)"), "{stderr}");
}

#[test]
fn the_redis_protocols_render_the_example_job() {
    let redis = RedisServer::start();
    let dir = TestDir::new();
    let store = dir.path().join("store");
    let _server = Server::start_with(
        dir.path(),
        "",
        &[],
        &[
            ("KILN_QUEUE_URL", redis.url()),
            ("KILN_STORAGE_URL", format!("file://{}", store.display())),
        ],
    );
    let text = run_ok(
        "bash",
        &[&clients_dir().join("redis.sh"), &job_file()],
        &[("REDIS_URL", redis.url())],
    );
    assert!(text.contains("kiln protocol: {"), "{text}");
    assert!(text.contains("emprops: {"), "{text}");
    // Both jobs stored their picture.
    let pictures: Vec<PathBuf> = std::fs::read_dir(&store)
        .unwrap()
        .map(|entry| entry.unwrap().path().join("image.png"))
        .filter(|path| path.exists())
        .collect();
    assert_eq!(pictures.len(), 2, "{pictures:?}");
    for picture in pictures {
        check_hello_png(&picture);
    }
}
