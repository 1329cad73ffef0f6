//! Test helpers shared by the encoder and tape tests: synthetic frames, and ffprobe/ffmpeg/webpmux
//! readings of what was encoded.

use std::io::Cursor;
use std::process::Command;

/// Frame `i`'s colour: red steps by 20 so neighbouring frames stay far apart after lossy coding.
pub fn frame_colour(i: u32) -> [u8; 3] {
    [(10 + 20 * (i % 12)) as u8, 80, 160]
}

/// A solid-colour RGBA frame.
pub fn solid_rgba(w: u32, h: u32, rgb: [u8; 3]) -> Vec<u8> {
    [rgb[0], rgb[1], rgb[2], 255].repeat((w * h) as usize)
}

/// A solid-colour PNG.
pub fn solid_png(w: u32, h: u32, rgb: [u8; 3]) -> Vec<u8> {
    rgba_to_png(w, h, &solid_rgba(w, h, rgb))
}

/// Encodes raw RGBA as PNG.
pub fn rgba_to_png(w: u32, h: u32, rgba: &[u8]) -> Vec<u8> {
    encode(w, h, rgba, image::ImageFormat::Png)
}

/// Encodes raw RGBA as `format` (JPEG drops alpha first).
pub fn encode(w: u32, h: u32, rgba: &[u8], format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbaImage::from_raw(w, h, rgba.to_vec()).unwrap();
    let img = image::DynamicImage::ImageRgba8(img);
    let img = if format == image::ImageFormat::Jpeg {
        image::DynamicImage::ImageRgb8(img.to_rgb8())
    } else {
        img
    };
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A frame with structure and noise, closer to real content than a flat colour (for timings).
pub fn noise_rgba(w: u32, h: u32, seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let mut out = Vec::with_capacity((w * h * 4) as usize);
    for y in 0..h {
        for x in 0..w {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let n = (state & 31) as u8;
            let gx = ((x + seed * 4) % 256) as u8;
            let gy = ((y + seed * 2) % 256) as u8;
            out.extend_from_slice(&[gx.wrapping_add(n), gy, (gx ^ gy).wrapping_add(n), 255]);
        }
    }
    out
}

/// Writes `bytes` to a temporary `x.<ext>` and runs `program before… <file> after…`, returning
/// stdout.
fn run_on(bytes: &[u8], ext: &str, program: &str, before: &[&str], after: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("x.{ext}"));
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new(program)
        .args(before)
        .arg(&path)
        .args(after)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{program} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// ffprobe's streams (with counted frames) and format, as JSON.
pub fn probe(bytes: &[u8], ext: &str) -> serde_json::Value {
    let out = run_on(
        bytes,
        ext,
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_streams",
            "-show_format",
            "-count_frames",
            "-of",
            "json",
        ],
        &[],
    );
    serde_json::from_slice(&out).unwrap()
}

/// The first stream of `codec_type` in ffprobe's reading.
pub fn stream<'a>(probe: &'a serde_json::Value, codec_type: &str) -> &'a serde_json::Value {
    probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == codec_type)
        .unwrap_or_else(|| panic!("no {codec_type} stream in {probe}"))
}

/// The first video stream's ffprobe reading.
pub fn probe_video(bytes: &[u8], ext: &str) -> serde_json::Value {
    stream(&probe(bytes, ext), "video").clone()
}

/// The centre pixel of frame `k`, decoded back by ffmpeg.
pub fn decode_frame(bytes: &[u8], ext: &str, k: u32) -> [u8; 3] {
    let select = format!("select=eq(n\\,{k})");
    let png = run_on(
        bytes,
        ext,
        "ffmpeg",
        &["-v", "error", "-i"],
        &[
            "-vf",
            &select,
            "-frames:v",
            "1",
            "-f",
            "image2",
            "-c:v",
            "png",
            "-",
        ],
    );
    let img = image::load_from_memory(&png).unwrap().to_rgb8();
    img.get_pixel(img.width() / 2, img.height() / 2).0
}

/// Frame `k` decoded to `got`, which should be `want` within lossy-codec error.
pub fn assert_colour_near(got: [u8; 3], want: [u8; 3], k: u32) {
    let far = got
        .iter()
        .zip(want)
        .any(|(&g, w)| (i16::from(g) - i16::from(w)).abs() > 7);
    assert!(!far, "frame {k}: decoded {got:?}, expected about {want:?}");
}

/// Whether the top-level `moov` box comes before `mdat` (MP4 faststart).
pub fn moov_before_mdat(mp4: &[u8]) -> bool {
    let mut at = 0usize;
    let mut order = Vec::new();
    while at + 8 <= mp4.len() {
        let size = u32::from_be_bytes(mp4[at..at + 4].try_into().unwrap()) as u64;
        let kind = &mp4[at + 4..at + 8];
        order.push(kind.to_vec());
        let size = match size {
            1 => u64::from_be_bytes(mp4[at + 8..at + 16].try_into().unwrap()),
            0 => break,
            n => n,
        };
        at += size as usize;
    }
    let pos = |k: &[u8]| order.iter().position(|o| o == k);
    matches!((pos(b"moov"), pos(b"mdat")), (Some(m), Some(d)) if m < d)
}

/// `webpmux -info` of an animated WebP (ffmpeg 5.1 cannot read animated WebP back).
pub fn webpmux_info(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&run_on(bytes, "webp", "webpmux", &["-info"], &[])).into_owned()
}

/// Waits (up to 5 s) until process `pid` has exited: gone, or a zombie awaiting its reaping.
pub async fn assert_no_process(pid: u32) {
    for _ in 0..50 {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return,
            Ok(stat) => {
                let state = stat.rsplit(')').next().unwrap_or("").trim_start();
                if state.starts_with('Z') || !stat.contains("(ffmpeg)") {
                    return;
                }
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("ffmpeg {pid} is still running");
}
