//! Builds the card's page from `page.html` and `poster.js`, waits until it is laid out, captures it.

use crate::input::{Item, PosterInput};
use kiln_sdk::prelude::*;

const PAGE_HTML: &str = include_str!("page.html");
const POSTER_JS: &str = include_str!("poster.js");

/// The page script sets this once the text is fitted and the layout painted.
const READY: &str = "window.__posterCard && window.__posterCard.ready === true";

/// Opens a page the size of the card, serves the card and its script, and navigates to it.
pub fn open(input: &PosterInput) -> Result<Page, Error> {
    let page = browser::open(PageOptions {
        width: input.width,
        height: input.height,
        scale: 1.0,
        seed: None,
    })?;
    page.serve("/poster.js", "text/javascript", POSTER_JS.as_bytes())?;
    page.serve("/index.html", "text/html", html(input).as_bytes())?;
    page.navigate("/index.html")?;
    Ok(page)
}

/// The card's HTML. Every string from the input goes through `html_escape`.
pub fn html(input: &PosterInput) -> String {
    let subtitle = match &input.subtitle {
        Some(text) if !text.is_empty() => {
            format!(r#"<p class="subtitle">{}</p>"#, template::html_escape(text))
        }
        _ => String::new(),
    };
    template::fill(
        PAGE_HTML,
        &[
            ("theme", input.theme.class()),
            ("title", &template::html_escape(&input.title)),
            ("subtitle", &subtitle),
            ("chart", &chart(&input.items)),
        ],
    )
}

/// A horizontal bar chart, bars scaled to the largest value; empty without items.
fn chart(items: &[Item]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let max = items.iter().map(|item| item.value).fold(0.0, f64::max);
    let mut out = format!(r#"<section class="chart" style="--rows: {}">"#, items.len());
    for item in items {
        let percent = if max > 0.0 {
            item.value / max * 100.0
        } else {
            0.0
        };
        out.push_str(&format!(
            r#"<div class="row"><span class="label">{label}</span><span class="track"><span class="bar" style="width: {percent:.2}%"></span></span><span class="value">{value}</span></div>"#,
            label = template::html_escape(&item.label),
            value = template::html_escape(&item.value.to_string()),
        ));
    }
    out.push_str("</section>");
    out
}

/// Waits for the page's own script to say the card is laid out.
pub fn wait_until_ready(page: &Page) -> Result<(), Error> {
    page.wait_until(READY, host::limits().timeout_ms)
        .map_err(|err| match err.kind {
            ErrorKind::Timeout => Error::timeout(format!(
                "the card's page did not get ready in time: {}",
                err.message
            )),
            _ => err,
        })
}

/// Captures the whole viewport: exactly `width` × `height` pixels at scale 1.
pub fn capture(page: &Page, format: ImageFormat) -> Result<Image, Error> {
    page.capture(&CaptureOptions {
        source: CaptureSource::Viewport,
        format,
        quality: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_strings_are_escaped() {
        let input: PosterInput = serde_json::from_str(
            r#"{"title":"<script>x</script>","subtitle":"a & b","items":[{"label":"<i>","value":2},{"label":"z","value":1}]}"#,
        )
        .unwrap();
        let html = html(&input);
        assert!(html.contains("<h1>&lt;script&gt;x&lt;/script&gt;</h1>"));
        assert!(html.contains(r#"<p class="subtitle">a &amp; b</p>"#));
        assert!(html.contains(r#"<span class="label">&lt;i&gt;</span>"#));
        assert!(html.contains("width: 100.00%") && html.contains("width: 50.00%"));
        assert!(!html.contains("{{"));
    }
}
