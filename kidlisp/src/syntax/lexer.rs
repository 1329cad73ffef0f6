//! Tokens: `;` comments, `(` `)` `,`, quoted strings with backslash escapes,
//! and runs of anything else up to white space, a paren, a quote, `;` or `,`.

use super::{PChar, ParseError, Pos};

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub text: String,
    pub pos: Pos,
}

fn is_js_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

pub(super) fn tokenize(
    input: &[PChar],
    warnings: &mut Vec<String>,
) -> Result<Vec<Token>, ParseError> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < input.len() {
        let (c, pos) = input[i];
        if is_js_space(c) {
            i += 1;
            continue;
        }
        match c {
            ';' => {
                while i < input.len() && input[i].0 != '\n' {
                    i += 1;
                }
            }
            '(' | ')' | ',' => {
                tokens.push(Token {
                    text: c.to_string(),
                    pos,
                });
                i += 1;
            }
            '"' | '\'' => {
                let mut j = i + 1;
                let mut closed = None;
                while j < input.len() {
                    match input[j].0 {
                        '\\' if j + 1 < input.len() && input[j + 1].0 != '\n' => j += 2,
                        '\\' => break,
                        q if q == c => {
                            closed = Some(j);
                            break;
                        }
                        _ => j += 1,
                    }
                }
                match closed {
                    Some(end) => {
                        tokens.push(Token {
                            text: input[i..=end].iter().map(|c| c.0).collect(),
                            pos,
                        });
                        i = end + 1;
                    }
                    // AC skips a lone quote character; an unterminated double-quoted
                    // string is almost always a mistake, so it is an error here.
                    None if c == '"' => {
                        return Err(ParseError {
                            line: pos.line,
                            column: pos.column,
                            message: "unterminated string".into(),
                        });
                    }
                    None => {
                        warnings.push(format!("{}:{}: lone ' ignored", pos.line, pos.column));
                        i += 1;
                    }
                }
            }
            _ => {
                let start = i;
                while i < input.len() {
                    let ch = input[i].0;
                    if is_js_space(ch) || matches!(ch, '(' | ')' | '"' | ';' | '\'' | ',') {
                        break;
                    }
                    i += 1;
                }
                tokens.push(Token {
                    text: input[start..i].iter().map(|c| c.0).collect(),
                    pos,
                });
            }
        }
    }
    Ok(tokens)
}
