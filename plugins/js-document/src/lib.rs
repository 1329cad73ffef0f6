//! The js job type's page from its HTML, CSS and JavaScript: the document Kiln renders (CSS and
//! JavaScript served as their own files, so page errors name `/piece.js` and its lines) and the
//! self-contained `index.html` (everything inlined, plus the seeded `Math.random`).
//!
//! Its own crate because two plugins build it: `js` (its `html` artifact and the page it
//! renders) and `bundle` (a `js` piece's offline file, which is that `html` artifact minified).

/// Where the rendered page loads the job's CSS.
pub const STYLE_PATH: &str = "/style.css";
/// Where the rendered page loads the job's JavaScript; page errors name this path.
pub const SCRIPT_PATH: &str = "/piece.js";

const SEED_JS: &str = include_str!("seed.js");

/// How the CSS and JavaScript get into the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Linked: `<link href="/style.css">` and `<script src="/piece.js">`, for the page Kiln renders
    /// (the host seeds `Math.random` itself).
    Served,
    /// Inlined in `<style>` and `<script>` elements, with the seeded `Math.random` first: one file
    /// that renders the same thing with no network.
    Inline,
}

/// A page's parts, as the js job's input has them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parts<'a> {
    /// HTML: a fragment (placed in `<body>`) or a whole document.
    pub html: &'a str,
    /// CSS, a stylesheet in the head.
    pub css: &'a str,
    /// JavaScript, a classic script at the end of `<body>`.
    pub javascript: &'a str,
    /// Seeds `Math.random` in an inlined document.
    pub seed: Option<u64>,
}

/// The document for `input` in `mode`.
pub fn build(input: &Parts<'_>, mode: Mode) -> String {
    let full = is_full_document(input.html);
    let mut head_start = String::new();
    if mode == Mode::Inline {
        if full && !input.html.to_ascii_lowercase().contains("charset") {
            head_start.push_str("<meta charset=\"utf-8\">\n");
        }
        if let Some(seed) = input.seed {
            head_start.push_str(&format!("<script>\n{}</script>\n", seed_script(seed)));
        }
    }
    let style = match (input.css.is_empty(), mode) {
        (true, _) => String::new(),
        (false, Mode::Served) => format!("<link rel=\"stylesheet\" href=\"{STYLE_PATH}\">\n"),
        (false, Mode::Inline) => format!("<style>\n{}\n</style>\n", escape_css(input.css)),
    };
    let script = match (input.javascript.is_empty(), mode) {
        (true, _) => String::new(),
        (false, Mode::Served) => format!("<script src=\"{SCRIPT_PATH}\"></script>\n"),
        (false, Mode::Inline) => {
            format!("<script>\n{}\n</script>\n", escape_js(input.javascript))
        }
    };
    if full {
        inject(input.html, &head_start, &style, &script)
    } else {
        format!(
            "<!doctype html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n{head_start}{style}</head>\n\
             <body>\n{}\n{script}</body>\n</html>\n",
            input.html
        )
    }
}

/// Whether `html` is a whole document rather than a fragment for `<body>`.
pub fn is_full_document(html: &str) -> bool {
    let lower = html.to_ascii_lowercase();
    lower.contains("<html") || lower.contains("<body")
}

/// Puts the parts into a whole document: `head_start` right after the doctype (before any of the
/// page's own scripts), the style before `</head>` (else with `head_start`), the script before the
/// last `</body>` (else before `</html>`, else at the end).
fn inject(html: &str, head_start: &str, style: &str, script: &str) -> String {
    // ASCII lowercasing keeps every byte offset, so positions found in `lower` index `html`.
    let lower = html.to_ascii_lowercase();
    let start = lower
        .find("<!doctype")
        .and_then(|at| lower[at..].find('>').map(|end| at + end + 1))
        .unwrap_or(0);
    let style_at = lower.find("</head").unwrap_or(start);
    let script_at = lower
        .rfind("</body")
        .or_else(|| lower.rfind("</html"))
        .unwrap_or(html.len());
    let mut inserts = [(start, head_start), (style_at, style), (script_at, script)];
    // Stable: at one position, the seed goes before the style before the script.
    inserts.sort_by_key(|(at, _)| *at);
    let mut out = String::with_capacity(html.len() + head_start.len() + style.len() + script.len());
    let mut done = 0;
    for (at, text) in inserts {
        out.push_str(&html[done..at]);
        if at > 0 && !out.ends_with('\n') && !text.is_empty() {
            out.push('\n');
        }
        out.push_str(text);
        done = at;
    }
    out.push_str(&html[done..]);
    out
}

/// The script that seeds `Math.random` as the host's page shim does (sfc32, the seed split into
/// its low and high 32-bit words).
pub fn seed_script(seed: u64) -> String {
    SEED_JS
        .replace("__KILN_SEED_LO__", &(seed & 0xffff_ffff).to_string())
        .replace("__KILN_SEED_HI__", &(seed >> 32).to_string())
}

/// JavaScript safe inside an inline `<script>`: `</script` becomes `<\/script` and `<!--` becomes
/// `<\!--` (which would otherwise let a later `<script` keep the element open). Inside JS strings,
/// templates and regular expressions both escapes stand for the same characters.
pub fn escape_js(js: &str) -> String {
    escape_after_lt(&escape_after_lt(js, "</script"), "<!--")
}

/// CSS safe inside an inline `<style>`: `</style` becomes `<\/style` (`\/` is `/` in CSS).
pub fn escape_css(css: &str) -> String {
    escape_after_lt(css, "</style")
}

/// Puts a backslash after the `<` of every ASCII-case-insensitive match of `needle` (which starts
/// with `<`), keeping the match as written: `</SCRIPT` becomes `<\/SCRIPT`.
fn escape_after_lt(text: &str, needle: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for (at, _) in lower.match_indices(needle) {
        out.push_str(&text[done..=at]);
        out.push('\\');
        done = at + 1;
    }
    out.push_str(&text[done..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(html: &'a str, css: &'a str, javascript: &'a str, seed: Option<u64>) -> Parts<'a> {
        Parts {
            html,
            css,
            javascript,
            seed,
        }
    }

    #[test]
    fn closing_tags_cannot_break_out_of_inline_elements() {
        assert_eq!(
            escape_js("s = '</script><b>'; t = '</SCRIPT >'"),
            r"s = '<\/script><b>'; t = '<\/SCRIPT >'"
        );
        assert_eq!(escape_js("'<!--<script>'"), r"'<\!--<script>'");
        assert_eq!(
            escape_css("a::after { content: '</Style>' }"),
            r"a::after { content: '<\/Style>' }"
        );
    }

    #[test]
    fn fragment_is_wrapped_with_linked_or_inline_parts() {
        let piece = input("<div id=a></div>", "div { color: red }", "go()", Some(5));
        let served = build(&piece, Mode::Served);
        assert!(served.contains("<link rel=\"stylesheet\" href=\"/style.css\">"));
        assert!(served.contains("<body>\n<div id=a></div>\n<script src=\"/piece.js\"></script>"));
        assert!(
            !served.contains("Math.random"),
            "the host seeds the served page"
        );

        let inline = build(&piece, Mode::Inline);
        assert!(inline.contains("<style>\ndiv { color: red }\n</style>"));
        assert!(inline.contains("<script>\ngo()\n</script>\n</body>"));
        assert!(!inline.contains("src=") && !inline.contains("href="));
        let seed_at = inline.find("Math.random").unwrap();
        assert!(seed_at < inline.find("<style>").unwrap());
        assert!(inline.contains("let a = 5 >>> 0, b = 0 >>> 0"));
    }

    #[test]
    fn empty_parts_are_left_out() {
        let served = build(&input("<p>hi</p>", "", "", None), Mode::Served);
        assert!(!served.contains("style.css") && !served.contains("piece.js"));
    }

    #[test]
    fn full_document_gets_parts_injected_in_place() {
        let html =
            "<!DOCTYPE html>\n<HTML><head><title>t</title></HEAD><body><p>x</p></Body></html>";
        let doc = build(&input(html, "p{}", "go()", Some(1 << 32)), Mode::Inline);
        assert!(doc.starts_with("<!DOCTYPE html>\n<meta charset=\"utf-8\">\n<script>"));
        assert!(doc.contains("let a = 0 >>> 0, b = 1 >>> 0"));
        assert!(doc.contains("<title>t</title>\n<style>\np{}\n</style>\n</HEAD>"));
        assert!(doc.contains("<p>x</p>\n<script>\ngo()\n</script>\n</Body></html>"));
        assert_eq!(
            doc.matches("<html").count() + doc.matches("<HTML").count(),
            1
        );
    }

    #[test]
    fn full_document_without_head_or_body_end_gets_parts_at_start_and_end() {
        let doc = build(&input("<body><p>x</p>", "p{}", "go()", None), Mode::Served);
        assert_eq!(
            doc,
            "<link rel=\"stylesheet\" href=\"/style.css\">\n<body><p>x</p>\n<script src=\"/piece.js\"></script>\n"
        );
    }

    #[test]
    fn seed_splits_into_words_like_the_host() {
        let script = seed_script((7u64 << 32) | 5);
        assert!(script.contains("let a = 5 >>> 0, b = 7 >>> 0"));
    }
}
