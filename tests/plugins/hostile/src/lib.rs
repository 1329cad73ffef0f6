//! A plugin that misbehaves on request, so tests can prove the host survives it:
//! `{"mode": "spin"}` loops forever, `"hog"` allocates until its memory limit stops it,
//! `"panic"` panics with a known message, `"store"` stores without having declared the storage
//! capability, `"peek"` reads a page it never navigated, `"pages"` holds two pages open at once,
//! `"fs"` reports what it can read, write and connect to through WASI, `"ok"` returns no
//! artifacts.

use kiln_sdk::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Input {
    mode: Mode,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Mode {
    Spin,
    Hog,
    Panic,
    Store,
    Peek,
    Pages,
    Fs,
    Ok,
}

struct Hostile;

impl Plugin for Hostile {
    type Input = Input;
    const NAME: &'static str = "hostile";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const SUMMARY: &'static str = "Test plugin: spins, hogs memory or panics on request";
    /// The browser only: `store` proves an undeclared capability is refused.
    const CAPABILITIES: &'static [Capability] = &[Capability::Browser];

    fn run(_job: &JobContext, input: Input) -> Result<Vec<Artifact>, Error> {
        match input.mode {
            Mode::Spin => spin(),
            Mode::Hog => hog(),
            Mode::Panic => panic!("hostile plugin panicked on purpose"),
            Mode::Peek => {
                let page = browser::open(PageOptions {
                    width: 10,
                    height: 10,
                    scale: 1.0,
                    seed: None,
                })?;
                let secret = page.evaluate("window.secret")?;
                Err(Error::internal(format!(
                    "read the previous job's document: {secret}"
                )))
            }
            Mode::Store => {
                storage::put("x.txt", &Blob::new(b"x", "text/plain"))?;
                Ok(Vec::new())
            }
            Mode::Pages => {
                let options = PageOptions {
                    width: 10,
                    height: 10,
                    scale: 1.0,
                    seed: None,
                };
                let _first = browser::open(options)?;
                let _second = browser::open(options)?;
                Ok(Vec::new())
            }
            Mode::Fs => Err(Error::internal(fs_report())),
            Mode::Ok => Ok(Vec::new()),
        }
    }
}

/// What the sandbox lets this plugin do with files, as one line the test can read.
fn fs_report() -> String {
    let read = std::fs::read_to_string("/data/hello.txt").map_err(|e| e.kind());
    let write = std::fs::write("/data/new.txt", b"x").map_err(|e| e.kind());
    let outside = std::fs::read_to_string("/etc/passwd").map_err(|e| e.kind());
    let net = std::net::TcpStream::connect(("127.0.0.1", 9)).map_err(|e| e.kind());
    format!("read={read:?} write={write:?} outside={outside:?} net={net:?}")
}

fn spin() -> ! {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

fn hog() -> Result<Vec<Artifact>, Error> {
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    loop {
        // Touch every page so the allocation is real, 16 MiB at a time.
        chunks.push(vec![1u8; 16 << 20]);
        std::hint::black_box(&chunks);
    }
}

kiln_sdk::export_plugin!(Hostile);
