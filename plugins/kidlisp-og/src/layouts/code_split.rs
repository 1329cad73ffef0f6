//! `code-split`: the featured piece's source on a dark panel at the left, the piece (650×500
//! at density 1 after 4 s, scaled to cover 600×450) in a 4 px frame at the right, and a bar
//! along the bottom.

use super::{HEIGHT, WIDTH, caption, featured_frames};
use crate::input::Selection;
use crate::play::frame_at;
use cards::{Anchor, Canvas, TextStyle, fonts, hex, rgb, rgba};
use kiln_sdk::Error;

/// The card's and the panel's background, #1a1a2e.
pub const BACKGROUND: [u8; 3] = [26, 26, 46];
/// The preview's frame colour, rgb(80, 80, 100).
pub const BORDER: [u8; 3] = [80, 80, 100];
/// Source lines shown; a longer source gets a `...` line after them.
pub const MAX_LINES: usize = 12;
/// What is shown for a piece with an empty source.
pub const FALLBACK_SOURCE: &str = "(wipe \"black\")\n(ink \"white\")\n(box 50 50 100 100)";
/// The panel's width.
const PANEL: f32 = 500.0;
/// Where the source's text starts.
const MARGIN: f32 = 20.0;

/// The lines the panel shows: at most 12, then `...` if there were more; tabs as two spaces.
pub fn panel_lines(source: &str) -> Vec<String> {
    let source = if source.trim().is_empty() {
        FALLBACK_SOURCE
    } else {
        source
    };
    let all: Vec<&str> = source.split('\n').collect();
    let mut lines: Vec<String> = all
        .iter()
        .take(MAX_LINES)
        .map(|l| l.trim_end_matches('\r').replace('\t', "  "))
        .collect();
    if all.len() > MAX_LINES {
        lines.push("...".into());
    }
    lines
}

/// `line` cut to fit `width` px in `style`, ending in `…` when cut.
fn fit(style: &TextStyle, line: &str, width: f32) -> String {
    if style.font.advance(line, style.size, 0.0) <= width {
        return line.to_string();
    }
    let mut cut = String::new();
    for c in line.chars() {
        cut.push(c);
        if style.font.advance(&format!("{cut}…"), style.size, 0.0) > width {
            cut.pop();
            break;
        }
    }
    cut.push('…');
    cut
}

/// Draws the card.
pub fn code_split(sel: &Selection) -> Result<Canvas, Error> {
    let frames = featured_frames(sel, 650, 500, &[frame_at(4.0)])?;
    let mut canvas = Canvas::new(WIDTH, HEIGHT);
    let [r, g, b] = BACKGROUND;
    canvas.clear(rgb(r, g, b));
    let comment = TextStyle::new(fonts::mono(), 14.0, hex(0x666666));
    canvas.text(
        &comment,
        &format!("// ${}", sel.featured.code),
        MARGIN,
        40.0,
        Anchor::Start,
    );
    // The oven's SVG let long lines run under the preview; here they are cut at the panel.
    let code = TextStyle::new(fonts::mono(), 18.0, hex(0x88ff88));
    for (i, line) in panel_lines(&sel.featured.source).iter().enumerate() {
        let line = fit(&code, line, PANEL - 2.0 * MARGIN);
        canvas.text(&code, &line, MARGIN, 80.0 + 28.0 * i as f32, Anchor::Start);
    }
    let [r, g, b] = BORDER;
    canvas.fill_rect(525.0, 25.0, 608.0, 458.0, rgb(r, g, b));
    canvas.draw_image(&frames[0].cover(600, 450), 529, 29);
    canvas.fill_rect(
        0.0,
        (HEIGHT - 60) as f32,
        WIDTH as f32,
        60.0,
        rgba(0, 0, 0, 0.8),
    );
    let baseline = (HEIGHT - 20) as f32;
    let title = TextStyle::new(fonts::mono_bold(), 24.0, hex(0xffffff));
    canvas.text(&title, "KidLisp.com", 24.0, baseline, Anchor::Start);
    let info = TextStyle::new(fonts::mono(), 18.0, hex(0xaaaaaa));
    canvas.text(
        &info,
        &caption(&sel.featured, false),
        (WIDTH - 24) as f32,
        baseline,
        Anchor::End,
    );
    Ok(canvas)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_panel_shows_twelve_lines_then_an_ellipsis() {
        let source: Vec<String> = (0..15).map(|i| format!("(box {i})")).collect();
        let lines = panel_lines(&source.join("\n"));
        assert_eq!(lines.len(), 13);
        assert_eq!(lines[11], "(box 11)");
        assert_eq!(lines[12], "...");
        assert_eq!(panel_lines("a\n\tb").len(), 2);
        assert_eq!(panel_lines("a\n\tb")[1], "  b");
        assert_eq!(panel_lines("  ").len(), 3, "the fallback source");
    }
}
