//! Plays a piece in the `kidlisp` renderer on a virtual 60 fps clock and keeps the frames a
//! layout captures — the oven's "load the piece, wait N seconds, screenshot", without a browser.
//! A piece that does not parse gives black captures (and a log line), as a tile whose capture
//! fails does in the oven; a frame the interpreter stops (its step budget) is logged once and
//! the piece plays on, as aesthetic.computer does.

use crate::input::Piece;
use cards::Rgba;
use kiln_sdk::prelude::*;
use std::collections::{BTreeMap, HashMap};

/// Frames per second of the virtual clock.
pub const FPS: u32 = 60;
/// Seed of every piece's `random`, so a card is the same every time it is made.
pub const SEED: u32 = 0;

/// Why a piece gave no frames of its own.
#[derive(Debug)]
pub enum Unplayable {
    /// The source does not parse: line, column, message.
    Parse(String),
    /// The renderer refused the size.
    Size(String),
}

/// The frame (from 0) shown `seconds` after the piece starts.
pub fn frame_at(seconds: f64) -> u64 {
    (seconds * f64::from(FPS)).round() as u64
}

/// Plays `piece` at `width × height` art pixels from the day's midnight (`epoch_ms`) and
/// returns the frames numbered in `capture` (ascending), straight RGBA over black.
pub fn play(
    piece: &Piece,
    width: u32,
    height: u32,
    capture: &[u64],
    epoch_ms: f64,
    embeds: &BTreeMap<String, String>,
) -> Result<Vec<Rgba>, Unplayable> {
    let program =
        kidlisp::Program::parse(&piece.source).map_err(|e| Unplayable::Parse(e.to_string()))?;
    let options = kidlisp::Options {
        seed: SEED,
        epoch_ms,
        step_ms: 1000.0 / f64::from(FPS),
        embeds: embeds
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<HashMap<_, _>>(),
        ..kidlisp::Options::default()
    };
    let mut renderer = kidlisp::Renderer::new(&program, width as usize, height as usize, options)
        .map_err(|e| Unplayable::Size(e.to_string()))?;
    let last = capture.last().copied().unwrap_or(0);
    let mut frames = Vec::with_capacity(capture.len());
    let mut stopped = 0u64;
    let mut first_stop = None;
    for frame in 0..=last {
        if let Err(stop) = renderer.render_frame(&[]) {
            stopped += 1;
            first_stop.get_or_insert(stop);
        }
        if capture.contains(&frame) {
            let rgba = Rgba::new(width, height, renderer.pixels().to_vec())
                .expect("the renderer's own size")
                .over_black();
            frames.push(rgba);
        }
    }
    if let Some(stop) = first_stop {
        host::log(
            LogLevel::Warn,
            &format!(
                "${}: {stopped} of {} frames stopped early, the first in frame {}: {}",
                piece.code,
                last + 1,
                stop.frame,
                stop.message
            ),
        );
    }
    for line in renderer.take_log().into_iter().take(5) {
        host::log(LogLevel::Info, &format!("${}: kidlisp: {line}", piece.code));
    }
    for missing in renderer.missing() {
        let what = match missing {
            kidlisp::Missing::Source { code, .. } => format!("the source of {code}"),
            kidlisp::Missing::Image { key, .. } => format!("the image {key}"),
        };
        host::log(
            LogLevel::Warn,
            &format!(
                "${}: drawn without {what}, which the input does not carry",
                piece.code
            ),
        );
    }
    Ok(frames)
}

/// [`play`], with black frames and a warning for a piece that cannot be played.
pub fn play_or_black(
    piece: &Piece,
    width: u32,
    height: u32,
    capture: &[u64],
    epoch_ms: f64,
    embeds: &BTreeMap<String, String>,
) -> Vec<Rgba> {
    play(piece, width, height, capture, epoch_ms, embeds).unwrap_or_else(|why| {
        host::log(
            LogLevel::Warn,
            &format!("${}: shown as a black tile: {}", piece.code, why.describe()),
        );
        vec![Rgba::black(width, height); capture.len()]
    })
}

impl Unplayable {
    /// Says what went wrong.
    pub fn describe(&self) -> String {
        match self {
            Unplayable::Parse(e) => format!("its source does not parse ({e})"),
            Unplayable::Size(e) => format!("the renderer refused the size ({e})"),
        }
    }
}
