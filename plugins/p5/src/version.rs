//! Which p5 line a sketch gets: the one it asks for, else the one its code needs.

use crate::input::P5Input;
use kiln_sdk::Error;
use kiln_sdk::browser::Library;

/// Picks the p5 line for this sketch and returns the library the host serves for it.
pub fn pick(input: &P5Input) -> Result<Library, Error> {
    kiln_sdk::p5::library_for(&input.code, input.p5_version)
}
