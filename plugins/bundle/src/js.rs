//! A js bundle: the `js` job type's `html` artifact (kiln-js-document's inlined document, with
//! its seeded `Math.random`), its JavaScript minified.

use crate::input::BundleInput;
use crate::minify::Minifier;
use crate::pack::Page;

/// The js bundle's page. It holds no byte files.
pub fn page(
    input: &BundleInput,
    colophon_json: &str,
    title: &str,
    minifier: &mut Minifier,
) -> Page {
    let javascript = if input.javascript.is_empty() {
        String::new()
    } else {
        minifier.minify("javascript", &input.javascript)
    };
    let parts = kiln_js_document::Parts {
        html: &input.html,
        css: &input.css,
        javascript: &javascript,
        seed: input.seed,
    };
    let document = kiln_js_document::build(&parts, kiln_js_document::Mode::Inline);
    Page {
        title: title.to_string(),
        html: with_colophon(&document, colophon_json),
        files: Vec::new(),
    }
}

/// The document with the colophon's data block (and an empty icon) at the end of its head, after
/// the `<meta charset>` that must come within its first 1024 bytes; a document without a head
/// gets them after its doctype.
fn with_colophon(document: &str, colophon_json: &str) -> String {
    // The empty icon keeps the browser from asking the network for /favicon.ico.
    let block = format!(
        "<link rel=\"icon\" href=\"data:,\">\n\
         <script id=\"kiln-colophon\" type=\"application/json\">{colophon_json}</script>\n"
    );
    // ASCII lowercasing keeps byte offsets.
    let lower = document.to_ascii_lowercase();
    let at = lower
        .find("</head")
        .or_else(|| {
            lower
                .find("<!doctype")
                .and_then(|at| lower[at..].find('>').map(|end| at + end + 1))
        })
        .unwrap_or(0);
    let mut out = String::with_capacity(document.len() + block.len() + 1);
    out.push_str(&document[..at]);
    if at > 0 && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&block);
    out.push_str(&document[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colophon_goes_into_the_head() {
        let doc = with_colophon(
            "<!doctype html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n</head>",
            "{}",
        );
        assert_eq!(
            doc,
            "<!doctype html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<link rel=\"icon\" href=\"data:,\">\n<script id=\"kiln-colophon\" type=\"application/json\">{}</script>\n</head>"
        );
        assert!(with_colophon("<p>x</p>", "{}").starts_with("<link rel=\"icon\""));
    }
}
