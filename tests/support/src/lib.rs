//! Shared set-up for Kiln's end-to-end tests (`tests/e2e`): a real Kiln (real Chromium, real
//! plugins built for wasm32-wasip2) in a temporary data dir, the outside services the tests stand
//! up on loopback (Redis, moto's S3, Azurite, HTTP servers), and helpers to read the images Kiln
//! produces.
//!
//! A crate of its own rather than a module compiled into every test binary: the end-to-end tests
//! are one binary (`host/Cargo.toml`'s `e2e`), and this crate builds once for it.

pub mod azurite;
pub mod fixtures;
pub mod loopback;
pub mod moto;
pub mod processes;
pub mod procfs;
pub mod redis_server;

use kiln::jobs::{JobOutcome, JobSpec};
use kiln::{Config, ErrorKind, Kiln};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// One runtime for every test in a binary, so a Kiln started by one test can serve others.
pub fn block_on<F: Future>(future: F) -> F::Output {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap()
        })
        .block_on(future)
}

/// The workspace's root directory.
pub fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The workspace's target directory.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_dir().join("target"))
}

/// The `kiln` binary cargo built for the test binary that is running: it sits in the profile
/// directory, one level above the test executable in `deps/` (`CARGO_BIN_EXE_kiln` exists only
/// while compiling the host's own test targets, not this crate).
pub fn kiln_bin() -> PathBuf {
    let test_exe = std::env::current_exe().expect("the test binary knows its own path");
    let profile_dir = test_exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary is in <target>/<profile>/deps");
    let kiln = profile_dir.join(format!("kiln{}", std::env::consts::EXE_SUFFIX));
    assert!(
        kiln.exists(),
        "{} is missing: cargo builds it for the host's test targets (`cargo test -p kiln --test e2e`)",
        kiln.display()
    );
    kiln
}

/// A built plugin component, e.g. `kiln_plugin_p5`.
pub fn plugin_wasm(crate_name: &str) -> PathBuf {
    let path = target_dir()
        .join("wasm32-wasip2/release")
        .join(format!("{crate_name}.wasm"));
    assert!(
        path.exists(),
        "{} is missing: run tests/run.sh, which builds the plugins with `cargo build --target wasm32-wasip2 --release`",
        path.display()
    );
    path
}

/// The `kiln` binary over the data dir `dir` (plugins in `dir/plugins`), with RUST_LOG unset.
pub fn kiln_command(dir: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(kiln_bin());
    command
        .env("KILN_DATA_DIR", dir)
        .env("KILN_PLUGIN_DIRS", dir.join("plugins"))
        .env_remove("RUST_LOG");
    command
}

/// A command's stdout parsed as JSON; a panic shows stdout and stderr when it is not.
pub fn stdout_json(output: &std::process::Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {text}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// Where tests build plugin crates of their own: not the workspace's target dir, which `cargo
/// test` may hold locked while tests run.
pub fn author_target_dir() -> PathBuf {
    target_dir().join("plugin-sdk-tests")
}

/// Builds the example plugin crate `examples/<name>` for wasm32-wasip2, as its author would, and
/// returns the component.
pub fn build_example(name: &str, wasm_name: &str) -> PathBuf {
    let manifest = workspace_dir()
        .join("examples")
        .join(name)
        .join("Cargo.toml");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args(["build", "--quiet", "--release", "--target", "wasm32-wasip2"])
        .arg("--manifest-path")
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", author_target_dir())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building {} failed", manifest.display());
    author_target_dir()
        .join("wasm32-wasip2/release")
        .join(format!("{wasm_name}.wasm"))
}

/// A temporary data dir with the p5, js, video, kidlisp, kidlisp-og, notepat-og, url and hostile
/// plugins in its plugin folder.
pub struct TestDir {
    pub dir: tempfile::TempDir,
}

impl Default for TestDir {
    fn default() -> Self {
        Self::new()
    }
}

impl TestDir {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let plugins = dir.path().join("plugins");
        std::fs::create_dir_all(&plugins).unwrap();
        for name in [
            "kiln_plugin_p5",
            "kiln_plugin_js",
            "kiln_plugin_video",
            "kiln_plugin_kidlisp",
            "kiln_plugin_kidlisp_og",
            "kiln_plugin_notepat_og",
            "kiln_plugin_url",
            "kiln_test_plugin_hostile",
        ] {
            std::fs::copy(plugin_wasm(name), plugins.join(format!("{name}.wasm"))).unwrap();
        }
        Self { dir }
    }

    /// As [`TestDir::new`], with the plugins `extra` (crate names, e.g. `kiln_plugin_bundle`)
    /// too: plugins only some modules use stay out of every other module's start (each data dir
    /// compiles its plugins once; the bundle plugin, with its minifier, takes seconds).
    pub fn with(extra: &[&str]) -> Self {
        let dir = Self::new();
        for name in extra {
            std::fs::copy(
                plugin_wasm(name),
                dir.path().join("plugins").join(format!("{name}.wasm")),
            )
            .unwrap();
        }
        dir
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A config for this dir: one browser, two pages, a 5 s job timeout, and every capability
    /// granted to the hostile plugin (it declares only `browser`, so undeclared use is still
    /// refused at run time).
    pub fn config(&self) -> Config {
        let mut config = Config {
            data_dir: self.path().to_path_buf(),
            plugin_dirs: vec![self.path().join("plugins")],
            ..Config::default()
        };
        config.browser.processes = 1;
        config.browser.pages_per_process = 2;
        config.jobs.timeout_ms = 5_000;
        grant(&mut config, "hostile", &["browser", "media", "storage"]);
        config
    }
}

/// Grants `capabilities` to the plugin called `plugin`.
pub fn grant(config: &mut Config, plugin: &str, capabilities: &[&str]) {
    config
        .plugins
        .per_plugin
        .entry(plugin.to_string())
        .or_default()
        .grants = Some(capabilities.iter().map(|c| c.to_string()).collect());
}

/// A running Kiln with its own data dir.
pub struct TestKiln {
    pub kiln: Kiln,
    pub dir: TestDir,
}

impl TestKiln {
    pub fn start() -> Self {
        Self::start_with(|_| {})
    }

    pub fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::start_in(TestDir::new(), adjust)
    }

    /// As [`TestKiln::start_with`], over `dir` (e.g. a [`TestDir::with`] extra plugins).
    pub fn start_in(dir: TestDir, adjust: impl FnOnce(&mut Config)) -> Self {
        if let Ok(filter) = std::env::var("KILN_TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_writer(std::io::stderr)
                .try_init();
        }
        let mut config = dir.config();
        adjust(&mut config);
        let kiln = block_on(Kiln::start(config)).expect("kiln starts");
        Self { kiln, dir }
    }

    pub fn run(&self, job: serde_json::Value) -> JobOutcome {
        let spec: JobSpec = serde_json::from_value(job).expect("test job is a valid envelope");
        block_on(self.kiln.runner.run(&spec))
    }

    /// Runs a p5 job with `code` at `size`² and returns its outcome.
    pub fn p5(&self, code: &str, size: u32) -> JobOutcome {
        self.run(serde_json::json!({"type": "p5", "input": {"code": code, "width": size, "height": size}}))
    }
}

impl Drop for TestKiln {
    fn drop(&mut self) {
        block_on(self.kiln.shutdown());
    }
}

/// The bytes of a job's only artifact.
pub fn artifact_bytes(outcome: &JobOutcome) -> Vec<u8> {
    assert!(
        outcome.succeeded(),
        "job failed: {:?}\nlog: {:#?}",
        outcome.error,
        outcome.log
    );
    assert_eq!(
        outcome.artifacts.len(),
        1,
        "expected one artifact: {:?}",
        outcome.artifacts
    );
    let path = outcome.artifacts[0]
        .url
        .strip_prefix("file://")
        .expect("a local artifact");
    std::fs::read(path).unwrap()
}

/// Decodes a job's only artifact.
pub fn artifact_image(outcome: &JobOutcome) -> image::RgbaImage {
    image::load_from_memory(&artifact_bytes(outcome))
        .expect("the artifact decodes")
        .to_rgba8()
}

/// Asserts the job failed with `kind` and returns its message.
pub fn failure(outcome: &JobOutcome, kind: ErrorKind) -> String {
    let error = outcome
        .error
        .as_ref()
        .unwrap_or_else(|| panic!("job succeeded, expected {kind}"));
    assert_eq!(
        error.kind, kind,
        "wrong kind; message: {}\nlog: {:#?}",
        error.message, outcome.log
    );
    error.message.clone()
}

/// Whether two colours are within `tolerance` on every channel.
pub fn near(pixel: &image::Rgba<u8>, expected: [u8; 4], tolerance: u8) -> bool {
    pixel
        .0
        .iter()
        .zip(expected)
        .all(|(a, b)| a.abs_diff(b) <= tolerance)
}

/// A sketch that paints a red circle on white, the canvas `size`².
pub fn red_circle(size: u32) -> String {
    format!(
        "function setup() {{ createCanvas({size}, {size}); noLoop(); }}\n\
         function draw() {{ background(255); noStroke(); fill(255, 0, 0); circle(width / 2, height / 2, width / 2); }}\n"
    )
}

/// Frame `index` of a video decoded by ffmpeg, as RGB.
pub fn decode_frame(path: &Path, index: u32) -> image::RgbImage {
    let output = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-vf", &format!("select=eq(n\\,{index})"), "-frames:v", "1"])
        .args(["-f", "image2pipe", "-c:v", "png", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(
        output.status.success() && !output.stdout.is_empty(),
        "decoding frame {index} of {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    image::load_from_memory(&output.stdout).unwrap().to_rgb8()
}

/// The file of artifact `name`.
pub fn artifact(outcome: &kiln::jobs::JobOutcome, name: &str) -> std::path::PathBuf {
    assert!(
        outcome.succeeded(),
        "job failed: {:?}\nlog: {:#?}",
        outcome.error,
        outcome.log
    );
    let found = outcome
        .artifacts
        .iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("no artifact {name}: {:?}", outcome.artifacts));
    std::path::PathBuf::from(found.url.strip_prefix("file://").expect("a local artifact"))
}

/// The names of a job's artifacts, in order.
pub fn names(outcome: &kiln::jobs::JobOutcome) -> Vec<String> {
    outcome.artifacts.iter().map(|a| a.name.clone()).collect()
}
