//! Line-level rewriting (KIDLISP.md §2.1): a one-line program with commas is
//! split and each part wrapped in parentheses; in a multi-line program each
//! line loses its `;` comment and a line that starts with a word is wrapped,
//! unless it continues an open expression or starts with a cycle timer.
//! Every character keeps the source position it came from, for errors.

use super::{PChar, Pos};

pub(super) fn with_positions(source: &str) -> Vec<PChar> {
    let mut out = Vec::with_capacity(source.len());
    let (mut line, mut column) = (1u32, 1u32);
    for c in source.chars() {
        out.push((c, Pos { line, column }));
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    out
}

/// Replace string literals and comments by `_` (keeping quotes and `;`), so
/// separators inside them are not seen.
pub(super) fn mask(text: &[PChar]) -> Vec<char> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let ch = text[i].0;
        if ch == ';' {
            let stop = text[i..]
                .iter()
                .position(|c| c.0 == '\n')
                .map_or(text.len(), |p| i + p);
            out.push(';');
            out.extend(std::iter::repeat_n('_', stop - i - 1));
            i = stop;
            continue;
        }
        if ch == '"' || ch == '\'' {
            let mut j = i + 1;
            while j < text.len() && text[j].0 != ch && text[j].0 != '\n' {
                j += if text[j].0 == '\\' { 2 } else { 1 };
            }
            if j < text.len() && text[j].0 == ch {
                out.push(ch);
                out.extend(std::iter::repeat_n('_', j - i - 1));
                out.push(ch);
                i = j + 1;
                continue;
            }
        }
        out.push(ch);
        i += 1;
    }
    out
}

fn split_commas(text: &[PChar]) -> Vec<Vec<PChar>> {
    let masked = mask(text);
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, &c) in masked.iter().enumerate() {
        if c == ',' {
            parts.push(text[start..i].to_vec());
            start = i + 1;
        }
    }
    parts.push(text[start..].to_vec());
    parts
}

fn trim(text: &[PChar]) -> &[PChar] {
    let start = text
        .iter()
        .position(|c| !c.0.is_whitespace())
        .unwrap_or(text.len());
    let end = text
        .iter()
        .rposition(|c| !c.0.is_whitespace())
        .map_or(start, |p| p + 1);
    &text[start..end.max(start)]
}

fn wrap(text: &[PChar]) -> Vec<PChar> {
    let first = text.first().map(|c| c.1).unwrap_or_default();
    let last = text.last().map(|c| c.1).unwrap_or_default();
    let mut out = Vec::with_capacity(text.len() + 2);
    out.push(('(', first));
    out.extend_from_slice(text);
    out.push((')', last));
    out
}

/// Join parts with single spaces (positions borrowed from the neighbour).
fn join(parts: Vec<Vec<PChar>>) -> Vec<PChar> {
    let mut out = Vec::new();
    for (i, p) in parts.into_iter().enumerate() {
        if i > 0 {
            let pos = out.last().map(|c: &PChar| c.1).unwrap_or_default();
            out.push((' ', pos));
        }
        out.extend(p);
    }
    out
}

fn starts_word(text: &[PChar], allow_dollar: bool) -> bool {
    text.first()
        .is_some_and(|c| c.0.is_ascii_alphabetic() || c.0 == '_' || (allow_dollar && c.0 == '$'))
}

/// The comma rule: split outside strings, trim, drop empties, wrap word-led parts.
fn comma_parts(text: &[PChar]) -> Vec<PChar> {
    let parts = split_commas(text)
        .iter()
        .map(|p| trim(p).to_vec())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let closed =
                p.first().is_some_and(|c| c.0 == '(') && p.last().is_some_and(|c| c.0 == ')');
            if !closed && starts_word(&p, true) {
                wrap(&p)
            } else {
                p
            }
        })
        .collect();
    join(parts)
}

fn count(masked: &[char], c: char) -> usize {
    masked.iter().filter(|&&x| x == c).count()
}

/// `^\d*\.?\d+s\.\.\.?\s+\S` — a line led by a cycle timer, kept flat.
fn starts_with_cycle(text: &[PChar]) -> bool {
    let s: String = text.iter().map(|c| c.0).collect();
    let token_end = s.find(char::is_whitespace);
    let Some(end) = token_end else { return false };
    let token = &s[..end];
    let rest = s[end..].trim_start();
    !rest.is_empty() && crate::syntax::reader::is_cycle_token(token)
}

pub(super) fn rewrite(chars: &[PChar]) -> Vec<PChar> {
    let has_newline = chars.iter().any(|c| c.0 == '\n');
    if !has_newline {
        if mask(chars).contains(&',') {
            return comma_parts(chars);
        }
        return chars.to_vec();
    }
    let lines: Vec<Vec<PChar>> = chars
        .split(|c| c.0 == '\n')
        .map(|line| {
            let masked = mask(line);
            let cut = masked.iter().position(|&c| c == ';').unwrap_or(line.len());
            trim(&line[..cut]).to_vec()
        })
        .filter(|l| !l.is_empty())
        .collect();
    let mut out = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let masked = mask(line);
        let rewritten = if masked.contains(&',') {
            comma_parts(line)
        } else {
            let continuation = index > 0 && starts_word(line, false) && line[0].0 != '(' && {
                let prev = mask(&lines[index - 1]);
                prev.contains(&'(') && count(&prev, '(') > count(&prev, ')')
            };
            if starts_with_cycle(line) {
                line.clone()
            } else if line[0].0 != '(' && starts_word(line, false) && !continuation {
                wrap(line)
            } else {
                line.clone()
            }
        };
        out.push(rewritten);
    }
    join(out)
}
