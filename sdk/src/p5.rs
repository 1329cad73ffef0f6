//! Picking the p5.js line a sketch needs, for plugins that render p5 sketches.

use crate::Error;
use crate::browser::{self, Library};

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

/// The p5 library the host serves for `code`: major version `major` when given, else the one the
/// code's APIs point to (2 unless it uses 1.x-only APIs).
pub fn library_for(code: &str, major: Option<u32>) -> Result<Library, Error> {
    let major = major.map_or_else(|| guess_major(code).to_string(), |m| m.to_string());
    browser::libraries()
        .into_iter()
        .find(|lib| lib.name == "p5" && lib.version.split('.').next() == Some(major.as_str()))
        .ok_or_else(|| {
            Error::internal(format!(
                "this host serves no p5 {major}.x library; run the setup command to install it from npm"
            ))
        })
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
