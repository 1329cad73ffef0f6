//! Which p5 line a sketch gets: the one it asks for, else the one its code needs.

use crate::input::{P5Input, P5Version};
use kiln_sdk::Error;
use kiln_sdk::browser::{self, Library};

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

/// Picks the p5 line for this sketch and returns the library the host serves for it.
pub fn pick(input: &P5Input) -> Result<Library, Error> {
    let major = match input.p5_version {
        Some(P5Version::V1) => "1",
        Some(P5Version::V2) => "2",
        None => guess_major(&input.code),
    };
    browser::libraries()
        .into_iter()
        .find(|lib| lib.name == "p5" && lib.version.split('.').next() == Some(major))
        .ok_or_else(|| {
            Error::internal(format!(
                "this host serves no p5 {major}.x library; run the setup command to install it from npm"
            ))
        })
}

fn guess_major(code: &str) -> &'static str {
    let uses = |markers: &[&str]| markers.iter().any(|m| code.contains(m));
    if uses(ONLY_IN_V1) && !uses(ONLY_IN_V2) {
        "1"
    } else {
        "2"
    }
}

#[cfg(test)]
mod tests {
    use super::guess_major;

    #[test]
    fn preload_means_v1() {
        assert_eq!(
            guess_major("function preload() { img = loadImage('a.png') }"),
            "1"
        );
    }

    #[test]
    fn async_setup_means_v2() {
        assert_eq!(
            guess_major("async function setup() { await loadImage('a.png') }"),
            "2"
        );
    }

    #[test]
    fn plain_sketch_gets_the_current_line() {
        assert_eq!(
            guess_major("function setup() { createCanvas(100, 100) }"),
            "2"
        );
    }
}
