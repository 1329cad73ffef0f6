//! What a recording keeps of the frames it captures, judged between the capture and the
//! encoders: blank frames left out when asked (the oven's rule, shared/OVEN.md §3.3), whether
//! every kept frame is the first's pixels (frozen), the poster, and each kept frame's grid for
//! the flat-colour ("dud") verdict (§3.2).
//!
//! It runs on a blocking thread of its own, between two bounded channels, so decoding a frame
//! overlaps capturing the next one. Frames are decoded only when a verdict needs their pixels:
//! every frame when blank frames are left out (which frames the dud check samples is known only
//! at the end), else only the five frames the dud check samples.

use crate::error::RenderError;
use bytes::Bytes;
use kiln_frame_checks::{GridSample, flat_colour, is_blank, sampled_frames};
use tokio::sync::mpsc;

/// What the judge is asked to do.
#[derive(Debug, Clone, Copy)]
pub(super) struct JudgeOptions {
    /// Leave out blank frames.
    pub drop_blank: bool,
    /// Keep each frame's grid for the flat-colour verdict.
    pub flat_colour: bool,
    /// The captured frame (from 0) wanted as the poster.
    pub poster_frame: u32,
    /// How many frames will be captured.
    pub frames: u32,
}

/// What the judge saw once the frames stopped coming.
pub(super) struct Judged {
    /// Frames handed to the encoders.
    pub kept: u32,
    /// Blank frames left out.
    pub blank: u32,
    /// Every kept frame had the first kept frame's bytes (PNG bytes of the same pixels from the
    /// same encoder are the same bytes).
    pub all_identical: bool,
    /// The first kept frame captured at or after `poster_frame`, else the last kept frame.
    pub poster: Option<Bytes>,
    /// `#rrggbb` when the kept frames are one flat colour; only when asked.
    pub flat_colour: Option<String>,
}

/// Judges frames from `captured` (capture index, PNG bytes) and sends the kept ones to `kept`,
/// until `captured` closes or `kept` does (the encoders stopped).
pub(super) fn judge(
    options: JudgeOptions,
    mut captured: mpsc::Receiver<(u32, Bytes)>,
    kept: mpsc::Sender<Bytes>,
) -> Result<Judged, RenderError> {
    // Without blank frames left out, the frames kept are the frames captured, so the dud
    // check's samples are known now.
    let sampled = sampled_frames(options.frames);
    let decode =
        |index: u32| options.drop_blank || (options.flat_colour && sampled.contains(&index));
    let mut judged = Judged {
        kept: 0,
        blank: 0,
        all_identical: true,
        poster: None,
        flat_colour: None,
    };
    let mut first: Option<Bytes> = None;
    let mut poster_chosen = false;
    let mut grids = Vec::new();
    while let Some((index, frame)) = captured.blocking_recv() {
        if decode(index) {
            let pixels = image::load_from_memory_with_format(&frame, image::ImageFormat::Png)
                .map_err(|e| {
                    RenderError::internal(format!("decoding captured frame {index}: {e}"))
                })?
                .into_rgba8();
            let (width, height) = (pixels.width() as usize, pixels.height() as usize);
            if options.drop_blank && is_blank(pixels.as_raw(), width, height) {
                judged.blank += 1;
                continue;
            }
            if options.flat_colour {
                grids.push(GridSample::of(pixels.as_raw(), width, height));
            }
        }
        match &first {
            None => first = Some(frame.clone()),
            Some(first) if judged.all_identical && *first != frame => {
                judged.all_identical = false;
            }
            Some(_) => {}
        }
        if !poster_chosen {
            poster_chosen = index >= options.poster_frame;
            judged.poster = Some(frame.clone());
        }
        judged.kept += 1;
        if kept.blocking_send(frame).is_err() {
            // The encoders stopped: their result says why.
            break;
        }
    }
    if options.flat_colour {
        judged.flat_colour = flat_colour(&grids);
    }
    Ok(judged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(rgb: [u8; 3]) -> Bytes {
        let image =
            image::RgbaImage::from_pixel(40, 30, image::Rgba([rgb[0], rgb[1], rgb[2], 255]));
        let mut bytes = Vec::new();
        image
            .write_to(
                &mut std::io::Cursor::new(&mut bytes),
                image::ImageFormat::Png,
            )
            .unwrap();
        bytes.into()
    }

    fn run(mut options: JudgeOptions, frames: Vec<Bytes>) -> (Judged, Vec<Bytes>) {
        options.frames = frames.len() as u32;
        let (tx, rx) = mpsc::channel(frames.len().max(1));
        let (kept_tx, mut kept_rx) = mpsc::channel(frames.len().max(1));
        for (i, frame) in frames.into_iter().enumerate() {
            tx.try_send((i as u32, frame)).unwrap();
        }
        drop(tx);
        let judged = judge(options, rx, kept_tx).unwrap();
        let mut kept = Vec::new();
        while let Ok(frame) = kept_rx.try_recv() {
            kept.push(frame);
        }
        (judged, kept)
    }

    #[test]
    fn blank_frames_are_left_out_and_the_rest_judged() {
        let (black, red, blue) = (png([0, 0, 0]), png([200, 0, 0]), png([0, 0, 200]));
        let options = JudgeOptions {
            drop_blank: true,
            flat_colour: true,
            poster_frame: 0,
            frames: 0,
        };
        let (judged, kept) = run(
            options,
            vec![black.clone(), red.clone(), black, red.clone()],
        );
        assert_eq!((judged.kept, judged.blank), (2, 2));
        assert_eq!(kept, vec![red.clone(), red.clone()]);
        assert!(judged.all_identical);
        assert_eq!(judged.poster.as_ref(), Some(&red));
        assert_eq!(judged.flat_colour.as_deref(), Some("#c80000"));

        let (judged, _) = run(options, vec![red.clone(), blue.clone()]);
        assert!(!judged.all_identical);
        // Two flat frames of different colours: each sampled frame is flat in itself, so the
        // oven's rule calls it a dud of the first frame's colour.
        assert_eq!(judged.flat_colour.as_deref(), Some("#c80000"));
    }

    #[test]
    fn keeping_every_frame_only_the_sampled_frames_are_decoded() {
        let options = JudgeOptions {
            drop_blank: false,
            flat_colour: true,
            poster_frame: 0,
            frames: 0,
        };
        // Ten frames sample 0, 2, 5, 7 and 9: the others are never decoded (garbage passes),
        // and a varied frame among the unsampled does not change the verdict.
        let red = png([200, 0, 0]);
        let garbage = Bytes::from_static(b"not a png");
        let frames: Vec<Bytes> = (0..10)
            .map(|i| {
                if [0, 2, 5, 7, 9].contains(&i) {
                    red.clone()
                } else {
                    garbage.clone()
                }
            })
            .collect();
        let (judged, kept) = run(options, frames);
        assert_eq!(kept.len(), 10);
        assert_eq!(judged.flat_colour.as_deref(), Some("#c80000"));
    }

    #[test]
    fn without_verdicts_nothing_is_decoded_or_left_out() {
        let options = JudgeOptions {
            drop_blank: false,
            flat_colour: false,
            poster_frame: 1,
            frames: 0,
        };
        let garbage = Bytes::from_static(b"not a png");
        let black = png([0, 0, 0]);
        let (judged, kept) = run(options, vec![black.clone(), garbage.clone()]);
        assert_eq!((judged.kept, judged.blank), (2, 0));
        assert_eq!(kept.len(), 2);
        assert_eq!(judged.poster, Some(garbage));
        assert_eq!(judged.flat_colour, None);
    }
}
