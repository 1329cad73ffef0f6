//! Reading how long a WAV soundtrack lasts, from its RIFF header.

use crate::error::RenderError;
use std::time::Duration;

/// WAVE format tags accepted: integer PCM, IEEE float PCM, and `WAVE_FORMAT_EXTENSIBLE` whose
/// sub-format is one of those two.
const PCM: u16 = 0x0001;
const FLOAT: u16 = 0x0003;
const EXTENSIBLE: u16 = 0xFFFE;

/// The length of a PCM WAV: its `data` chunk's sample frames over the sample rate.
///
/// Refuses, as `invalid_input`, anything that is not RIFF/WAVE, a compressed WAV (ADPCM, MP3,
/// …), and a WAV without a `fmt ` chunk before its `data` or without samples. A `data` size larger
/// than the file (what streaming writers leave behind) is clamped to the bytes present.
pub fn wav_duration(wav: &[u8]) -> Result<Duration, RenderError> {
    if wav.len() < 12 || &wav[..4] != b"RIFF" || &wav[8..12] != b"WAVE" {
        return Err(RenderError::invalid_input(
            "the soundtrack is not a WAV file (no RIFF/WAVE header): give a PCM .wav",
        ));
    }
    let mut at = 12;
    let mut format: Option<(u32, u16)> = None; // (sample rate, block align)
    while at + 8 <= wav.len() {
        let id = &wav[at..at + 4];
        let size = u32::from_le_bytes(wav[at + 4..at + 8].try_into().unwrap_or_default()) as usize;
        let body = &wav[at + 8..];
        let body = &body[..size.min(body.len())];
        match id {
            b"fmt " => format = Some(read_fmt(body)?),
            b"data" => {
                let (rate, align) = format.ok_or_else(|| {
                    RenderError::invalid_input(
                        "the soundtrack WAV has no `fmt ` chunk before its samples: re-export it",
                    )
                })?;
                let frames = body.len() as u64 / u64::from(align);
                if frames == 0 {
                    return Err(RenderError::invalid_input(
                        "the soundtrack WAV has no samples",
                    ));
                }
                return Ok(Duration::from_secs_f64(frames as f64 / f64::from(rate)));
            }
            _ => {}
        }
        // Chunks are padded to an even length.
        at = at
            .saturating_add(8)
            .saturating_add(size)
            .saturating_add(size & 1);
    }
    Err(RenderError::invalid_input(
        "the soundtrack WAV has no `data` chunk (truncated?): re-export it",
    ))
}

/// Checks a `fmt ` chunk is PCM with a usable layout; returns (sample rate, block align).
fn read_fmt(body: &[u8]) -> Result<(u32, u16), RenderError> {
    if body.len() < 16 {
        return Err(RenderError::invalid_input(
            "the soundtrack WAV's `fmt ` chunk is truncated: re-export it",
        ));
    }
    let u16_at = |i: usize| u16::from_le_bytes([body[i], body[i + 1]]);
    let mut tag = u16_at(0);
    if tag == EXTENSIBLE && body.len() >= 26 {
        // The sub-format GUID starts with the plain format tag.
        tag = u16_at(24);
    }
    if tag != PCM && tag != FLOAT {
        return Err(RenderError::invalid_input(format!(
            "the soundtrack is a compressed WAV (format tag {tag:#06x}); Kiln reads PCM WAV only: \
             re-export it as 16-bit PCM"
        )));
    }
    let channels = u16_at(2);
    let rate = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
    let align = u16_at(12);
    if channels == 0 || rate == 0 || align == 0 {
        return Err(RenderError::invalid_input(format!(
            "the soundtrack WAV's header is inconsistent ({channels} channels, {rate} Hz, \
             {align}-byte frames): re-export it"
        )));
    }
    Ok((rate, align))
}

/// A mono 16-bit PCM WAV of `seconds` of a 440 Hz tone (tests).
#[cfg(test)]
pub(crate) fn tone_wav(rate: u32, seconds: f64) -> Vec<u8> {
    let samples = (f64::from(rate) * seconds).round() as u32;
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + samples * 2).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&PCM.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&(rate * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&(samples * 2).to_le_bytes());
    for i in 0..samples {
        let t = f64::from(i) / f64::from(rate);
        let s = (t * 440.0 * std::f64::consts::TAU).sin() * 8000.0;
        wav.extend_from_slice(&(s as i16).to_le_bytes());
    }
    wav
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn pcm_duration_comes_from_the_data_chunk() {
        let wav = tone_wav(8000, 1.5);
        assert_eq!(wav_duration(&wav).unwrap(), Duration::from_millis(1500));
        // A streaming writer's "unknown" data size is clamped to the bytes present.
        let mut streamed = wav.clone();
        streamed[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            wav_duration(&streamed).unwrap(),
            Duration::from_millis(1500)
        );
    }

    #[test]
    fn non_pcm_and_non_wav_are_refused() {
        let mut adpcm = tone_wav(8000, 0.1);
        adpcm[20] = 0x11;
        let err = wav_duration(&adpcm).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert!(
            err.message.contains("compressed WAV (format tag 0x0011)"),
            "{err}"
        );
        let err = wav_duration(b"ID3\x04 an mp3").unwrap_err();
        assert!(err.message.contains("not a WAV file"), "{err}");
        let err = wav_duration(&tone_wav(8000, 0.1)[..36]).unwrap_err();
        assert!(err.message.contains("no `data` chunk"), "{err}");
    }
}
