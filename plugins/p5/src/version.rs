//! Which p5 line a sketch gets: the one it asks for, else the one its code needs, and whether a
//! sketch that failed under the guessed line deserves a try under the other.

use crate::input::P5Input;
use kiln_sdk::browser::Library;
use kiln_sdk::p5::Version;
use kiln_sdk::{Error, ErrorKind};

/// Picks the p5 line for this sketch and returns the library the host serves for it.
pub fn pick(input: &P5Input) -> Result<Library, Error> {
    kiln_sdk::p5::library_for(&input.code, input.p5_version)
}

/// The other line's library, when the sketch did not name a version and `error` is the kind
/// of failure the other line may not have: the page threw a `TypeError` or `ReferenceError`
/// (an API that one line lacks or calls differently, e.g. 1.x's 9-argument `bezierVertex`
/// under 2.x reads "Cannot read properties of undefined"). Timeouts, bad input and host
/// failures are not retried: the other line would not change them.
pub fn other_after(input: &P5Input, first: &Library, error: &Error) -> Option<Library> {
    if input.p5_version.is_some() || error.kind != ErrorKind::PieceFailed {
        return None;
    }
    let api_mismatch = [
        "TypeError",
        "ReferenceError",
        "is not a function",
        "is not defined",
    ]
    .iter()
    .any(|marker| error.message.contains(marker));
    if !api_mismatch {
        return None;
    }
    let other = if first.version.starts_with('1') {
        Version::V2
    } else {
        Version::V1
    };
    kiln_sdk::p5::library_for(&input.code, Some(other)).ok()
}
