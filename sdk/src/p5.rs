//! Picking the p5.js line a sketch needs, for plugins that render p5 sketches.

use crate::Error;
use crate::browser::{self, Library};
use crate::libraries::{self, InstalledLibrary};
use schemars::JsonSchema;
use serde::Deserialize;

/// A p5 major version, as job inputs name it: `"1"` or `"2"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Version {
    /// p5 1.x (1.11, the last of the line).
    #[serde(rename = "1")]
    V1,
    /// p5 2.x.
    #[serde(rename = "2")]
    V2,
}

/// APIs that exist in p5 1.x and were removed or replaced in 2.x. A sketch that uses one of these
/// (and no 2.x-only syntax) was written for 1.x.
const ONLY_IN_V1: &[&str] = &[
    "function preload",
    "preload =",
    "curveVertex(",
    "curveTightness(",
    "createStringDict(",
    "createNumberDict(",
];

/// Syntax that only makes sense in p5 2.x, whose `setup` and `draw` may be async.
const ONLY_IN_V2: &[&str] = &["async function setup", "async function draw", "await "];

/// The p5 library the host serves for `code`: `version` when given, else the one the code's APIs
/// point to (2 unless it uses 1.x-only APIs).
pub fn library_for(code: &str, version: Option<Version>) -> Result<Library, Error> {
    let major = major_for(code, version);
    browser::libraries()
        .into_iter()
        .find(|lib| lib.name == "p5" && is_major(&lib.version, &major))
        .ok_or_else(|| missing(&major))
}

/// The same pick as [`library_for`] among the libraries whose bytes a plugin can read
/// (`kiln:render/libraries`, no capability needed): for plugins that pack a sketch with its
/// p5 rather than render it in a page.
pub fn installed_for(code: &str, version: Option<Version>) -> Result<InstalledLibrary, Error> {
    let major = major_for(code, version);
    libraries::installed()
        .into_iter()
        .find(|lib| lib.name == "p5" && is_major(&lib.version, &major))
        .ok_or_else(|| missing(&major))
}

fn major_for(code: &str, version: Option<Version>) -> String {
    match version {
        Some(Version::V1) => 1,
        Some(Version::V2) => 2,
        None => guess_major(code),
    }
    .to_string()
}

fn is_major(version: &str, major: &str) -> bool {
    version.split('.').next() == Some(major)
}

fn missing(major: &str) -> Error {
    Error::internal(format!(
        "this host serves no p5 {major}.x library; run the setup command to install it from npm"
    ))
}

/// The major version a sketch was written for, judged by the APIs it uses.
pub fn guess_major(code: &str) -> u32 {
    let uses = |markers: &[&str]| markers.iter().any(|m| code.contains(m));
    if uses(ONLY_IN_V1) && !uses(ONLY_IN_V2) {
        1
    } else {
        2
    }
}

#[cfg(test)]
mod tests {
    use super::guess_major;

    #[test]
    fn preload_means_v1() {
        assert_eq!(
            guess_major("function preload() { img = loadImage('a.png') }"),
            1
        );
    }

    #[test]
    fn async_setup_means_v2() {
        assert_eq!(
            guess_major("async function setup() { await loadImage('a.png') }"),
            2
        );
    }

    #[test]
    fn plain_sketch_gets_the_current_line() {
        assert_eq!(
            guess_major("function setup() { createCanvas(100, 100) }"),
            2
        );
    }
}
