//! Tape baking: existing frames (a ZIP or stored objects), timings and a soundtrack into an MP4.

use crate::input::TapeInput;
use base64::Engine as _;
use kiln_sdk::media::{self, Blob, EncodeOptions, Frames, Tape, TapeSource, VideoFormat};
use kiln_sdk::{Error, storage};

/// Gathers the tape the input names and bakes it.
pub fn bake(
    tape: &TapeInput,
    quality: Option<u8>,
    scale: u32,
    fps: Option<f64>,
) -> Result<Frames, Error> {
    let source = if let Some(zip) = &tape.zip_base64 {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(zip.trim())
            .map_err(|e| Error::invalid_input(format!("input.tape.zipBase64: not base64: {e}")))?;
        TapeSource::Zip(Blob::new(&bytes, "application/zip"))
    } else if let Some(key) = &tape.zip_key {
        TapeSource::Zip(storage::get(key)?)
    } else {
        TapeSource::Keys(tape.frame_keys.clone().unwrap_or_default())
    };
    let soundtrack = match &tape.soundtrack_key {
        Some(key) => Some(storage::get(key)?),
        None => None,
    };
    media::bake_tape(
        Tape {
            source,
            durations_ms: tape.durations_ms.clone(),
            soundtrack,
            fps,
        },
        &EncodeOptions {
            formats: vec![VideoFormat::Mp4],
            quality,
            scale,
        },
    )
}
