//! Source text to AST: the preprocessing of KIDLISP.md §2.1 (commas, bare
//! lines, comments), the tokenizer and reader of §2.2, and the fast-math
//! expansion of §2.3.

mod fastmath;
mod lexer;
mod lines;
mod reader;

use std::fmt;

use crate::value::Value;

pub use fastmath::expand;

/// Deepest parenthesis nesting accepted (AC's conformance host refuses source
/// nested deeper than its evaluation depth of 128).
pub const MAX_NESTING: usize = 128;
/// Longest source accepted, in characters (AC's limit).
pub const MAX_SOURCE_CHARS: usize = 1_000_000;

/// Where a parse failed: 1-based line and column (in characters) of the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub column: u32,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for ParseError {}

/// A position in the original source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Pos {
    pub line: u32,
    pub column: u32,
}

/// A character of (rewritten) source with the position it came from.
pub(crate) type PChar = (char, Pos);

/// Parse a whole program into its top-level forms, fast-math already expanded.
/// `warnings` receives what AC tolerates but reports (unbalanced parentheses).
pub(crate) fn parse_program(
    source: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<Value>, ParseError> {
    if source.chars().count() > MAX_SOURCE_CHARS {
        return Err(ParseError {
            line: 1,
            column: 1,
            message: format!("source exceeds {MAX_SOURCE_CHARS} characters"),
        });
    }
    let chars = lines::with_positions(source);
    let rewritten = lines::rewrite(&chars);
    let tokens = lexer::tokenize(&rewritten, warnings)?;
    let forms = reader::read(tokens, end_pos(&chars), warnings)?;
    Ok(forms.iter().map(expand).collect())
}

fn end_pos(chars: &[PChar]) -> Pos {
    chars
        .last()
        .map(|&(c, p)| {
            if c == '\n' {
                Pos {
                    line: p.line + 1,
                    column: 1,
                }
            } else {
                Pos {
                    line: p.line,
                    column: p.column + 1,
                }
            }
        })
        .unwrap_or(Pos { line: 1, column: 1 })
}

pub(crate) use reader::{is_cycle_token, is_timer_token};
