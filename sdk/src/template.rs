//! Small helpers for building pages: filling `{{name}}` holes and quoting values for JS and HTML.

/// Replaces every `{{key}}` in `template` with its value. Values are inserted as given: quote them
/// with [`js_string`] or [`html_escape`] first where they land in code or markup.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (key, value) in values {
        out = out.replace(&format!("{{{{{key}}}}}"), value);
    }
    out
}

/// A JS string literal (double-quoted) holding `value`, safe inside a `<script>` element.
pub fn js_string(value: &str) -> String {
    // JSON string syntax is valid JS; `</` is split so the literal cannot close the script element.
    serde_json::to_string(value)
        .expect("a string serializes")
        .replace("</", "<\\/")
}

/// Escapes `&`, `<`, `>`, `"` and `'` for HTML text and attribute values.
pub fn html_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_every_hole() {
        assert_eq!(
            fill("{{a}}+{{b}}={{a}}", &[("a", "1"), ("b", "2")]),
            "1+2=1"
        );
    }

    #[test]
    fn js_string_cannot_close_a_script() {
        assert_eq!(js_string("</script>\"x"), r#""<\/script>\"x""#);
    }

    #[test]
    fn html_escape_covers_markup_and_quotes() {
        assert_eq!(
            html_escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
