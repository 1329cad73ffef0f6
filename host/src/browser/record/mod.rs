//! `page.record`: frames on the virtual clock, captured straight into the encoders.
//!
//! For frame `i` the host advances the page's clock to `i / fps` seconds and reads the pixels
//! back in the same DevTools call (a canvas) or right after it (the viewport). Frames go through a
//! small bounded channel to a task feeding ffmpeg's stdin, so capturing frame `i + 1` overlaps
//! encoding frame `i`, and memory stays flat however long the recording is: ffmpeg's pipe pushes
//! back when the encoders fall behind. Between the capture and the encoders a judge (`judge.rs`)
//! leaves out blank frames and makes the verdicts, when asked.

mod judge;

use super::page::JobPage;
use crate::error::RenderError;
use crate::media::encode::{EncodeSettings, FrameKind, MAX_FPS, VideoEncoder, VideoFormat};
use crate::media::{HostFrames, ImageFormat};
use bytes::Bytes;
use chromiumoxide::cdp::browser_protocol::page::Viewport;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// The lowest frame rate recorded: one frame per 100 s (the `video` plugin's floor too). A
/// recording is frames of a piece in motion; a rate below this is a mistake, not a slideshow.
pub const MIN_RECORD_FPS: f64 = 0.01;

/// Frames captured but not yet handed to ffmpeg. Small: ffmpeg's own pipe is the real buffer.
const FRAMES_IN_FLIGHT: usize = 4;

/// Where each frame's pixels come from.
#[derive(Debug, Clone)]
pub enum RecordSource {
    /// The viewport, as composited.
    Viewport,
    /// A canvas matched by a CSS selector, read back inside the page.
    Canvas(String),
    /// The box of the element matched by a CSS selector, measured when the recording starts.
    Element(String),
}

/// Where frames are read from once the recording has started: an element is a fixed clip.
enum Source<'a> {
    Viewport,
    Canvas(&'a str),
    Clip(Viewport),
}

/// What to record and how to encode it.
#[derive(Debug, Clone)]
pub struct RecordOptions {
    pub frames: u32,
    pub fps: f64,
    pub source: RecordSource,
    pub formats: Vec<VideoFormat>,
    pub quality: Option<u8>,
    pub scale: u32,
    pub poster_frame: Option<u32>,
    /// Frames per second of the encoded videos; `fps` (the capture rate) when `None`.
    pub playback_fps: Option<f64>,
    /// Leave out blank frames (shared/OVEN.md §3.3) instead of encoding them.
    pub drop_blank_frames: bool,
    /// Go on recording when the page throws.
    pub tolerate_page_errors: bool,
    /// Judge whether the kept frames are one flat colour (decodes every frame).
    pub judge_flat_colour: bool,
}

impl RecordOptions {
    /// `page.record`'s options before 1.4.0's `recording`: the capture rate is the playback
    /// rate, every frame is kept, a page error fails the recording, no flat-colour verdict.
    pub fn plain(
        frames: u32,
        fps: f64,
        source: RecordSource,
        formats: Vec<VideoFormat>,
        quality: Option<u8>,
        scale: u32,
        poster_frame: Option<u32>,
    ) -> Self {
        Self {
            frames,
            fps,
            source,
            formats,
            quality,
            scale,
            poster_frame,
            playback_fps: None,
            drop_blank_frames: false,
            tolerate_page_errors: false,
            judge_flat_colour: false,
        }
    }
}

/// A finished recording and what the host saw of it.
pub struct Recorded {
    pub frames: HostFrames,
    /// Blank frames left out.
    pub blank_frames: u32,
    /// `#rrggbb` when the kept frames are one flat colour (only when asked).
    pub flat_colour: Option<String>,
    /// Uncaught page errors during the recording (only a tolerant recording gets this far with
    /// any).
    pub page_errors: u32,
}

impl RecordOptions {
    /// Refuses what the host will not record, naming the option and the limit.
    fn check(&self, page: &JobPage) -> Result<(), RenderError> {
        let limits = page.job.limits;
        if !(self.fps.is_finite() && (MIN_RECORD_FPS..=MAX_FPS).contains(&self.fps)) {
            return Err(RenderError::invalid_input(format!(
                "record: fps {} is outside {MIN_RECORD_FPS}..={MAX_FPS}",
                self.fps
            )));
        }
        if self.frames == 0 || self.frames > limits.max_frames {
            return Err(RenderError::invalid_input(format!(
                "record: frames {} is outside 1..={} (jobs.max_frames)",
                self.frames, limits.max_frames
            )));
        }
        if let Some(playback) = self.playback_fps
            && !(playback.is_finite() && (MIN_RECORD_FPS..=MAX_FPS).contains(&playback))
        {
            return Err(RenderError::invalid_input(format!(
                "record: playback-fps {playback} is outside {MIN_RECORD_FPS}..={MAX_FPS}"
            )));
        }
        if self.formats.is_empty() {
            return Err(RenderError::invalid_input(
                "record: no formats asked for; give at least one of mp4, webm, webp, gif",
            ));
        }
        if self.scale == 0 || self.scale > 16 {
            return Err(RenderError::invalid_input(format!(
                "record: scale {} is outside 1..=16",
                self.scale
            )));
        }
        if let Some(poster) = self.poster_frame
            && poster >= self.frames
        {
            return Err(RenderError::invalid_input(format!(
                "record: poster-frame {poster} is not one of the {} frames (they count from 0)",
                self.frames
            )));
        }
        let options = page.options();
        let density = f64::from(options.scale) * f64::from(self.scale);
        let per_frame = f64::from(options.width) * f64::from(options.height) * density * density;
        let total = per_frame * f64::from(self.frames);
        if total > limits.max_frame_pixels as f64 {
            return Err(RenderError::invalid_input(format!(
                "record: {} frames of {per_frame:.0} pixels is {total:.0} pixels, over the budget \
                 of {} (jobs.max_frame_pixels): record fewer or smaller frames",
                self.frames, limits.max_frame_pixels
            )));
        }
        Ok(())
    }
}

impl JobPage {
    /// Records `options.frames` frames on the virtual clock into the encoders.
    pub async fn record(&self, options: &RecordOptions) -> Result<Recorded, RenderError> {
        self.require_document("record")?;
        if !self.has_virtual_time() {
            return Err(RenderError::invalid_input(
                "record needs the virtual clock: call use-virtual-time before navigate",
            ));
        }
        options.check(self)?;
        let recording = Recording::new(self, options);
        self.before_deadline(
            &format!("recording {} frames", options.frames),
            recording.run(),
        )
        .await?
    }

    /// Advances the clock to `ms` and returns the frame as PNG bytes.
    async fn frame_at(&self, ms: f64, source: &Source<'_>) -> Result<Vec<u8>, RenderError> {
        match source {
            Source::Canvas(selector) => {
                let step = format!("window.__kilnClock.advanceTo({ms})");
                self.read_canvas_after(Some(&step), selector, ImageFormat::Png, None)
                    .await
            }
            Source::Viewport | Source::Clip(_) => {
                self.evaluate(&format!("window.__kilnClock.advanceTo({ms})"))
                    .await?;
                let clip = match source {
                    Source::Clip(clip) => Some(clip.clone()),
                    _ => None,
                };
                self.screenshot(ImageFormat::Png, None, clip).await
            }
        }
    }

    /// The box of the element `selector` matches, in whole CSS pixels of the document.
    async fn element_box(&self, selector: &str) -> Result<Viewport, RenderError> {
        let selector_js = serde_json::to_string(selector).expect("a string serializes");
        let value = self
            .evaluate(&format!(
                "(() => {{ const e = document.querySelector({selector_js}); if (!e) return null; \
                   const r = e.getBoundingClientRect(); \
                   return [r.left + scrollX, r.top + scrollY, r.width, r.height]; }})()"
            ))
            .await?;
        let Some([x, y, width, height]) = serde_json::from_value::<Option<[f64; 4]>>(value)
            .ok()
            .flatten()
        else {
            return Err(RenderError::piece_failed(format!(
                "cannot record element {selector:?}: no element matches"
            )));
        };
        let (x, y) = (x.floor(), y.floor());
        let (width, height) = (width.ceil(), height.ceil());
        if width < 1.0 || height < 1.0 {
            return Err(RenderError::piece_failed(format!(
                "cannot record element {selector:?}: its box is {width}×{height} pixels"
            )));
        }
        Ok(Viewport {
            x,
            y,
            width,
            height,
            scale: 1.0,
        })
    }
}

/// One recording in progress.
struct Recording<'a> {
    page: &'a JobPage,
    options: &'a RecordOptions,
}

impl<'a> Recording<'a> {
    fn new(page: &'a JobPage, options: &'a RecordOptions) -> Self {
        Self { page, options }
    }

    async fn run(self) -> Result<Recorded, RenderError> {
        let options = self.options;
        let started = Instant::now();
        // A second recording on the same page goes on from where the clock stands.
        let clock = self
            .page
            .evaluate("[window.__kilnClock.now(), window.__kilnClock.thrownCount()]")
            .await?;
        let timeline = Timeline {
            start_ms: clock.get(0).and_then(|v| v.as_f64()).unwrap_or(0.0),
            interval_ms: 1000.0 / options.fps,
            errors_before: self.page.error_count(),
            thrown_before: clock.get(1).and_then(|v| v.as_u64()).unwrap_or(0),
        };

        let source = match &options.source {
            RecordSource::Viewport => Source::Viewport,
            RecordSource::Canvas(selector) => Source::Canvas(selector),
            RecordSource::Element(selector) => Source::Clip(self.page.element_box(selector).await?),
        };
        let first = self.capture(0, &timeline, &source).await?;
        let (width, height) = png_size(&first)?;
        let playback_fps = options.playback_fps.unwrap_or(options.fps);
        let mut encoder = VideoEncoder::start(EncodeSettings {
            width,
            height,
            fps: playback_fps,
            formats: options.formats.clone(),
            quality: options.quality,
            scale: options.scale,
            frame_kind: FrameKind::Png,
        })
        .await?;

        // Captured frames go through the judge to the feeder. The feeder owns the encoder; it
        // stops at the first encoder error and reports it. When the capture fails it is told to
        // abandon the encode, and is awaited, so no ffmpeg outlives the job.
        let (frames_tx, captured_rx) = mpsc::channel::<(u32, Bytes)>(FRAMES_IN_FLIGHT);
        let (kept_tx, mut frames_rx) = mpsc::channel::<Bytes>(FRAMES_IN_FLIGHT);
        let judge_options = judge::JudgeOptions {
            drop_blank: options.drop_blank_frames,
            flat_colour: options.judge_flat_colour,
            poster_frame: options.poster_frame.unwrap_or(0),
            frames: options.frames,
        };
        let judge = AbortOnDrop(tokio::task::spawn_blocking(move || {
            judge::judge(judge_options, captured_rx, kept_tx)
        }));
        let (abandon_tx, mut abandon_rx) = oneshot::channel::<()>();
        let feeder = tokio::spawn(async move {
            loop {
                tokio::select! {
                    biased;
                    _ = &mut abandon_rx => {
                        encoder.abandon().await;
                        return Err(RenderError::internal("the recording was abandoned"));
                    }
                    frame = frames_rx.recv() => match frame {
                        Some(frame) => encoder.push(&frame).await?,
                        None => break,
                    },
                }
            }
            encoder.finish().await
        });
        // Dropping the feeder's handle would leave it running; abort it if this future is
        // dropped (the job's deadline).
        let feeder = AbortOnDrop(feeder);

        let captured = self
            .stream(first.into(), &timeline, &source, frames_tx)
            .await;
        let capture_ms = started.elapsed().as_secs_f64() * 1e3;
        let captured = match captured {
            Ok(captured_ms) => self.late_error(&timeline).await.map(|()| captured_ms),
            Err(err) => Err(err),
        };
        // The judge ends when the capture side has dropped its sender (`stream` returned).
        let judged = match captured {
            Ok(captured_ms) => judge.join().await.map(|judged| (captured_ms, judged)),
            Err(err) => Err(err),
        };
        // The judge's poster is one of the frames it kept: none means every frame was blank.
        let judged = judged.and_then(|(captured_ms, mut judged)| match judged.poster.take() {
            Some(poster) => Ok((captured_ms, judged, poster)),
            None => Err(RenderError::piece_failed(format!(
                "every one of the {} frames recorded was blank (all transparent or all \
                 black), so there is nothing to encode: does the piece draw anything?",
                options.frames
            ))),
        });
        let (captured_ms, judged, poster) = match judged {
            Ok(both) => both,
            Err(err) => {
                let _ = abandon_tx.send(());
                let _ = feeder.join().await;
                return Err(err);
            }
        };
        let videos = feeder.join().await?;
        let total_ms = started.elapsed().as_secs_f64() * 1e3;
        let page_errors = self
            .page
            .error_count()
            .saturating_sub(timeline.errors_before) as u32;
        self.page.job.log.push(
            "info",
            "host",
            format!(
                "recorded {} frames of {width}×{height} in {capture_ms:.0} ms ({:.1} frames/s, {:.1} ms per capture); encoders done at {total_ms:.0} ms{}{}",
                options.frames,
                f64::from(options.frames) * 1e3 / capture_ms.max(1.0),
                captured_ms / f64::from(options.frames.saturating_sub(1).max(1)),
                if judged.blank > 0 {
                    format!("; {} blank frames left out", judged.blank)
                } else {
                    String::new()
                },
                if page_errors > 0 {
                    format!("; the page threw {page_errors} errors, tolerated")
                } else {
                    String::new()
                },
            ),
        );
        Ok(Recorded {
            frames: HostFrames {
                count: judged.kept,
                width: width * options.scale,
                height: height * options.scale,
                fps: playback_fps,
                all_identical: judged.all_identical,
                audio_seconds: None,
                videos,
                poster,
                poster_scale: options.scale,
            },
            blank_frames: judged.blank,
            flat_colour: judged.flat_colour,
            page_errors,
        })
    }

    /// Captures every frame after the first (already captured) and sends each to the judge;
    /// answers the time spent capturing the frames after the first, in ms.
    async fn stream(
        &self,
        first: Bytes,
        timeline: &Timeline,
        source: &Source<'_>,
        frames_tx: mpsc::Sender<(u32, Bytes)>,
    ) -> Result<f64, RenderError> {
        let options = self.options;
        let mut captured_ms = 0.0;
        for index in 0..options.frames {
            let frame: Bytes = if index == 0 {
                first.clone()
            } else {
                let shot = Instant::now();
                let frame = self.capture(index, timeline, source).await?;
                captured_ms += shot.elapsed().as_secs_f64() * 1e3;
                frame.into()
            };
            if index % 15 == 14 {
                // The frame of the progress report below, for the dashboard's live preview.
                self.page.job.log.preview(&frame);
            }
            if frames_tx.send((index, frame)).await.is_err() {
                // The judge or the feeder stopped: their results say why.
                break;
            }
            if index % 15 == 14 {
                let fraction = 0.1 + 0.8 * (index + 1) as f32 / options.frames as f32;
                self.page.job.log.progress(fraction, "recording");
            }
        }
        Ok(captured_ms)
    }

    /// Frame `index` (from 0), failing with the page's error if it threw on the way.
    async fn capture(
        &self,
        index: u32,
        timeline: &Timeline,
        source: &Source<'_>,
    ) -> Result<Vec<u8>, RenderError> {
        let errors_before = timeline.errors_before;
        let ms = timeline.start_ms + f64::from(index) * timeline.interval_ms;
        let bound = self
            .page
            .job
            .limits
            .frame_timeout
            .min(self.page.job.remaining());
        let tolerant = self.options.tolerate_page_errors;
        let frame = match tokio::time::timeout(bound, self.page.frame_at(ms, source)).await {
            Ok(frame) => frame,
            Err(_) => {
                // The page is stuck mid-step (a loop, or a promise that never settles): it
                // cannot serve another job.
                self.page.lease.taint();
                // The page cannot answer while stuck, so the clock is not asked which frame
                // threw: the frame that did not finish is named.
                if !tolerant && let Some(error) = self.page.error_at(errors_before) {
                    return Err(self.threw(index, timeline, &error));
                }
                return Err(RenderError::timeout(format!(
                    "frame {} of {} (at {:.3} s) did not finish within {} ms (jobs.frame_timeout_ms):                      does draw or a timer loop forever, or await a promise that never resolves?",
                    index + 1,
                    self.options.frames,
                    ms / 1e3,
                    bound.as_millis()
                )));
            }
        };
        if !tolerant && let Some(error) = self.page.error_at(errors_before) {
            let index = self.frame_that_threw(timeline).await.unwrap_or(index);
            return Err(self.threw(index, timeline, &error));
        }
        if self.page.crashed() {
            return Err(self.page.crash_error());
        }
        frame
    }

    fn threw(&self, index: u32, timeline: &Timeline, error: &dyn std::fmt::Display) -> RenderError {
        let ms = timeline.start_ms + f64::from(index) * timeline.interval_ms;
        RenderError::piece_failed(format!(
            "the page threw while recording frame {} of {} (at {:.3} s): {error}",
            index + 1,
            self.options.frames,
            ms / 1e3
        ))
    }

    /// The frame whose clock step threw this recording's first caught error, as the clock
    /// recorded it. DevTools reports an exception by an event that can reach the host after the
    /// step's answer, so the frame being checked when the host sees it may be a later one.
    async fn frame_that_threw(&self, timeline: &Timeline) -> Option<u32> {
        let thrown = self.first_thrown(timeline).await?;
        Some(timeline.frame_of(thrown.at, self.options.frames))
    }

    async fn first_thrown(&self, timeline: &Timeline) -> Option<Thrown> {
        let expression = format!("window.__kilnClock.thrownAt({})", timeline.thrown_before);
        // A page that cannot answer quickly gets the frame the host was checking.
        let value = tokio::time::timeout(LATE_ERROR_WAIT, self.page.evaluate(&expression))
            .await
            .ok()?
            .ok()?;
        serde_json::from_value(value).ok()
    }

    /// Fails the recording if one of its clock steps threw an error whose DevTools event had
    /// not arrived by the time its frame was checked.
    async fn late_error(&self, timeline: &Timeline) -> Result<(), RenderError> {
        if self.options.tolerate_page_errors {
            return Ok(());
        }
        let Some(thrown) = self.first_thrown(timeline).await else {
            return Ok(());
        };
        let index = timeline.frame_of(thrown.at, self.options.frames);
        // The event carries the details DevTools gives (source position); it is normally a
        // few milliseconds behind.
        let waited = Instant::now();
        while waited.elapsed() < LATE_ERROR_WAIT {
            if let Some(error) = self.page.error_at(timeline.errors_before) {
                return Err(self.threw(index, timeline, &error));
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        Err(self.threw(index, timeline, &thrown.message))
    }
}

/// How long a recording waits for the DevTools event of an error its clock caught.
const LATE_ERROR_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

/// An error the page's clock caught during a step, as the clock recorded it.
#[derive(serde::Deserialize)]
struct Thrown {
    /// The clock's time when it was thrown.
    at: f64,
    message: String,
}

/// When a recording's frames fall on the page's clock, and which page errors are its own.
struct Timeline {
    /// The clock when the recording started (0 for a page's first recording).
    start_ms: f64,
    interval_ms: f64,
    /// Page errors from before the recording (they were already reported, or ignored).
    errors_before: usize,
    /// Errors the clock caught before the recording.
    thrown_before: u64,
}

impl Timeline {
    /// The frame (from 0) whose clock step ran at `at`: a step to frame `i` runs the timers due
    /// after frame `i - 1` and up to frame `i`, then the animation frames at frame `i`.
    fn frame_of(&self, at: f64, frames: u32) -> u32 {
        let steps = ((at - self.start_ms) / self.interval_ms - 1e-6).ceil();
        if steps.is_finite() {
            steps.clamp(0.0, f64::from(frames.saturating_sub(1))) as u32
        } else {
            0
        }
    }
}

/// Width and height from a PNG's header.
fn png_size(png: &[u8]) -> Result<(u32, u32), RenderError> {
    if png.len() < 24 || &png[..8] != b"\x89PNG\r\n\x1a\n" {
        return Err(RenderError::internal(
            "the browser returned a frame that is not a PNG",
        ));
    }
    let word = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    Ok((word(16), word(20)))
}

/// A spawned task that is aborted when its handle is dropped, so an early return leaves no
/// feeder (and, through `kill_on_drop`, no ffmpeg) behind.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> AbortOnDrop<Result<T, RenderError>> {
    async fn join(mut self) -> Result<T, RenderError> {
        let handle = &mut self.0;
        handle
            .await
            .map_err(|e| RenderError::internal(format!("the encoder task failed: {e}")))?
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::{Timeline, png_size};

    #[test]
    fn png_size_reads_the_header() {
        let mut bytes = Vec::new();
        image::RgbaImage::new(7, 3)
            .write_to(
                &mut std::io::Cursor::new(&mut bytes),
                image::ImageFormat::Png,
            )
            .unwrap();
        assert_eq!(png_size(&bytes).unwrap(), (7, 3));
        assert!(png_size(b"nope").is_err());
    }

    #[test]
    fn an_error_is_given_the_frame_whose_step_ran_at_its_time() {
        let timeline = Timeline {
            start_ms: 1000.0,
            interval_ms: 1000.0 / 60.0,
            errors_before: 0,
            thrown_before: 0,
        };
        // Animation frames run at the step's own time.
        assert_eq!(timeline.frame_of(1000.0 + 36.0 * 1000.0 / 60.0, 60), 36);
        // A timer due between frames 4 and 5 runs in the step to frame 5.
        assert_eq!(timeline.frame_of(1000.0 + 4.5 * 1000.0 / 60.0, 60), 5);
        assert_eq!(timeline.frame_of(1000.0, 60), 0);
        // Whatever a page reports, the frame stays inside the recording.
        assert_eq!(timeline.frame_of(f64::NAN, 60), 0);
        assert_eq!(timeline.frame_of(-5.0, 60), 0);
        assert_eq!(timeline.frame_of(1e12, 60), 59);
    }
}
