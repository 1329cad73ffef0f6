//! Which p5 line a sketch gets: the one it asks for, else the one its code needs.

use crate::input::{P5Input, P5Version};
use kiln_sdk::Error;
use kiln_sdk::browser::Library;

/// Picks the p5 line for this sketch and returns the library the host serves for it.
pub fn pick(input: &P5Input) -> Result<Library, Error> {
    let major = input.p5_version.map(|v| match v {
        P5Version::V1 => 1,
        P5Version::V2 => 2,
    });
    kiln_sdk::p5::library_for(&input.code, major)
}
