//! The one data type KidLisp code and its runtime share.
//!
//! As in aesthetic.computer, the parsed program *is* data: a call is a list
//! whose head is a symbol, and some forms receive their arguments unevaluated,
//! so the AST and runtime values are the same enum.

use std::fmt::Write as _;
use std::sync::Arc;

use crate::jsnum;

/// A KidLisp value (and AST node).
#[derive(Clone, Debug)]
pub enum Value {
    /// JS `undefined`: a missing argument, a `(?)` with no choices, a statement's empty result.
    Undef,
    /// A boolean (results of comparisons).
    Bool(bool),
    /// A number (always a double, as in JS).
    Num(f64),
    /// A symbol, timing token or string. Quoted strings keep their quotes, as AC does,
    /// so that commands can tell `"red"` (text) from `red` (a name).
    Str(Arc<str>),
    /// A list: a call in code, an RGB triple or argument list at run time.
    List(Arc<Vec<Value>>),
    /// A function defined with `later`.
    Lambda(Arc<Lambda>),
}

/// A user function defined with `(later name params… body…)`.
#[derive(Debug)]
pub struct Lambda {
    /// Parameter names.
    pub params: Vec<Arc<str>>,
    /// The forms run when called.
    pub body: Vec<Value>,
}

impl Value {
    /// A symbol or string value.
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    /// A list value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(items))
    }

    /// The string inside, if this is a `Str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The number inside, if this is a `Num`.
    pub fn as_num(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            _ => None,
        }
    }

    /// The items, if this is a `List`.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// True for `Undef`.
    pub fn is_undef(&self) -> bool {
        matches!(self, Value::Undef)
    }

    /// JS truthiness.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Undef => false,
            Value::Bool(b) => *b,
            Value::Num(n) => *n != 0.0 && !n.is_nan(),
            Value::Str(s) => !s.is_empty(),
            Value::List(_) | Value::Lambda(_) => true,
        }
    }

    /// JS `ToNumber` (lists of one element coerce to that element, as JS arrays do).
    pub fn to_number(&self) -> f64 {
        match self {
            Value::Undef => f64::NAN,
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Num(n) => *n,
            Value::Str(s) => jsnum::string_to_number(s),
            Value::List(l) => match l.len() {
                0 => 0.0,
                1 => l[0].to_number(),
                _ => f64::NAN,
            },
            Value::Lambda(_) => f64::NAN,
        }
    }

    /// JS `===`: lists compare by identity.
    pub fn strict_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Undef, Value::Undef) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Num(a), Value::Num(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::List(a), Value::List(b)) => Arc::ptr_eq(a, b),
            (Value::Lambda(a), Value::Lambda(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// JS `String(value)` (arrays join with commas).
    pub fn to_js_string(&self) -> String {
        match self {
            Value::Undef => "undefined".into(),
            Value::Bool(b) => b.to_string(),
            Value::Num(n) => jsnum::number_to_string(*n),
            Value::Str(s) => s.to_string(),
            Value::List(l) => l
                .iter()
                .map(|v| match v {
                    Value::Undef => String::new(),
                    v => v.to_js_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
            Value::Lambda(_) => "[function]".into(),
        }
    }

    /// A stable key for forms AC keys by `JSON.stringify` (`once`, `...`).
    pub fn key(&self) -> String {
        let mut out = String::new();
        self.write_key(&mut out);
        out
    }

    fn write_key(&self, out: &mut String) {
        match self {
            Value::Undef => out.push_str("null"),
            Value::Bool(b) => {
                let _ = write!(out, "{b}");
            }
            Value::Num(n) => out.push_str(&jsnum::number_to_string(*n)),
            Value::Str(s) => {
                let _ = write!(out, "{s:?}");
            }
            Value::List(l) => {
                out.push('[');
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write_key(out);
                }
                out.push(']');
            }
            Value::Lambda(_) => out.push_str("{}"),
        }
    }
}

/// True when `s` is wrapped in matching double or single quotes.
pub fn is_quoted(s: &str) -> bool {
    s.len() >= 2
        && ((s.starts_with('"') && s.ends_with('"')) || (s.starts_with('\'') && s.ends_with('\'')))
}

/// Strip one pair of matching quotes, as AC's `unquoteString` does.
pub fn unquote(s: &str) -> &str {
    if is_quoted(s) { &s[1..s.len() - 1] } else { s }
}
