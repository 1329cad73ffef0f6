//! Tokens to forms. At top level a timing token (`1s`, `0.5s...`) gathers the
//! expressions after it, up to the next timing token, comma or `)`, into one
//! list, so `1s (ink red) (box)` reads as `(1s (ink red) (box))`.

use std::collections::VecDeque;

use super::lexer::Token;
use super::{MAX_NESTING, ParseError, Pos};
use crate::jsnum;
use crate::value::Value;

fn digits_then_s(t: &str) -> Option<&str> {
    // `\d*\.?\d+s` followed by the returned rest.
    let b = t.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i;
    if i < b.len() && b[i] == b'.' {
        let s = i + 1;
        let mut j = s;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j == s {
            return None;
        }
        i = j;
    } else if int_digits == 0 {
        return None;
    }
    if i < b.len() && b[i] == b's' {
        Some(&t[i + 1..])
    } else {
        None
    }
}

/// `^\d*\.?\d+s\.\.\.?$` — a cycle token such as `1s...` or `2s..`.
pub(crate) fn is_cycle_token(t: &str) -> bool {
    matches!(digits_then_s(t), Some("..") | Some("..."))
}

/// `^\d*\.?\d+s$` — a timer token such as `1s` or `.25s`.
pub(crate) fn is_timer_token(t: &str) -> bool {
    matches!(digits_then_s(t), Some(""))
}

fn is_timer_or_bang(t: &str) -> bool {
    matches!(digits_then_s(t), Some("") | Some("!"))
}

/// An atom: quoted strings keep their quotes (escaped delimiters resolved),
/// timing tokens stay strings, and anything JS `parseFloat` reads is a number.
pub(crate) fn atom(token: &str) -> Value {
    let b = token.as_bytes();
    if b.len() >= 2
        && ((b[0] == b'"' && b[b.len() - 1] == b'"') || (b[0] == b'\'' && b[b.len() - 1] == b'\''))
    {
        let q = token[..1].to_string();
        let body = token[1..token.len() - 1].replace(&format!("\\{q}"), &q);
        return Value::str(&format!("{q}{body}{q}"));
    }
    if is_cycle_token(token) || is_timer_token(token) {
        return Value::str(token);
    }
    match jsnum::parse_float(token) {
        Some(n) => Value::Num(n),
        None => Value::str(token),
    }
}

pub(super) fn read(
    tokens: Vec<Token>,
    end: Pos,
    warnings: &mut Vec<String>,
) -> Result<Vec<Value>, ParseError> {
    // Balance first: a surplus `)` is an error, missing ones are appended.
    let mut depth = 0usize;
    for t in &tokens {
        if t.text == "(" {
            depth += 1;
            if depth > MAX_NESTING {
                return Err(ParseError {
                    line: t.pos.line,
                    column: t.pos.column,
                    message: format!("nesting deeper than {MAX_NESTING}"),
                });
            }
        } else if t.text == ")" {
            if depth == 0 {
                return Err(ParseError {
                    line: t.pos.line,
                    column: t.pos.column,
                    message: "unexpected ')'".into(),
                });
            }
            depth -= 1;
        }
    }
    let mut tokens: VecDeque<Token> = tokens.into();
    if depth > 0 {
        warnings.push(format!(
            "missing {depth} closing parenthes{}, added at the end",
            if depth == 1 { "is" } else { "es" }
        ));
        for _ in 0..depth {
            tokens.push_back(Token {
                text: ")".into(),
                pos: end,
            });
        }
    }
    let mut out = Vec::new();
    while let Some(t) = tokens.front() {
        if t.text == "," {
            tokens.pop_front();
            continue;
        }
        if is_cycle_token(&t.text) || is_timer_or_bang(&t.text) {
            let mut group = vec![read_expr(&mut tokens)];
            while let Some(next) = tokens.front() {
                if next.text == ")"
                    || next.text == ","
                    || is_cycle_token(&next.text)
                    || is_timer_or_bang(&next.text)
                {
                    break;
                }
                group.push(read_expr(&mut tokens));
            }
            out.push(Value::list(group));
        } else {
            out.push(read_expr(&mut tokens));
        }
    }
    Ok(out)
}

fn read_expr(tokens: &mut VecDeque<Token>) -> Value {
    let t = tokens.pop_front().expect("balanced tokens");
    if t.text == "(" {
        let mut list = Vec::new();
        while let Some(next) = tokens.front() {
            if next.text == ")" {
                break;
            }
            if next.text == "," {
                tokens.pop_front();
                continue;
            }
            list.push(read_expr(tokens));
        }
        tokens.pop_front();
        Value::list(list)
    } else {
        atom(&t.text)
    }
}
