//! Infix shorthand (KIDLISP.md §2.3): atoms such as `w/2` or `w-s*2` become
//! prefix calls at load time, with `* / %` binding tighter than `+ -`; inside
//! a list, an expression followed by `*2`, `/10` or `%3` is combined with it.

use crate::value::Value;

fn is_word(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn is_decimal(s: &str) -> bool {
    match s.split_once('.') {
        Some((a, b)) => {
            !a.is_empty()
                && !b.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        }
        None => !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()),
    }
}

/// `\w+|\d+(?:\.\d+)?`
fn is_operand(s: &str) -> bool {
    is_word(s) || is_decimal(s)
}

fn operand(s: &str) -> Value {
    if is_decimal(s) {
        Value::Num(s.parse().unwrap_or(f64::NAN))
    } else {
        Value::str(s)
    }
}

fn is_op(c: char) -> bool {
    matches!(c, '+' | '-' | '*' | '/' | '%')
}

fn mul_div(c: char) -> bool {
    matches!(c, '*' | '/' | '%')
}

/// Split `a op b [op c]` (no spaces inside atoms) at operator characters.
fn infix(s: &str) -> Option<Value> {
    let ops: Vec<(usize, char)> = s.char_indices().filter(|&(_, c)| is_op(c)).collect();
    match ops.as_slice() {
        [(i, op)] => {
            let (l, r) = (&s[..*i], &s[i + 1..]);
            (is_word(l) && is_operand(r))
                .then(|| Value::list(vec![Value::str(&op.to_string()), Value::str(l), operand(r)]))
        }
        [(i, op1), (j, op2)] => {
            let (a, b, c) = (&s[..*i], &s[i + 1..*j], &s[j + 1..]);
            if !(is_word(a) && is_operand(b) && is_operand(c)) {
                return None;
            }
            let (a, b, c) = (operand(a), operand(b), operand(c));
            let (o1, o2) = (Value::str(&op1.to_string()), Value::str(&op2.to_string()));
            Some(if !mul_div(*op1) && mul_div(*op2) {
                Value::list(vec![o1, a, Value::list(vec![o2, b, c])])
            } else {
                Value::list(vec![o2, Value::list(vec![o1, a, b]), c])
            })
        }
        _ => None,
    }
}

/// Expand fast-math shorthand throughout a form.
pub fn expand(v: &Value) -> Value {
    match v {
        Value::Str(s) => infix(s).unwrap_or_else(|| v.clone()),
        Value::List(items) => {
            let mut out = Vec::with_capacity(items.len());
            let mut i = 0;
            while i < items.len() {
                if let (Value::List(_), Some(Value::Str(next))) = (&items[i], items.get(i + 1)) {
                    let mut cs = next.chars();
                    if let Some(op) = cs.next().filter(|&c| mul_div(c) || c == '+' || c == '-') {
                        let rest = cs.as_str();
                        if is_decimal(rest) {
                            out.push(Value::list(vec![
                                Value::str(&op.to_string()),
                                expand(&items[i]),
                                Value::Num(rest.parse().unwrap_or(f64::NAN)),
                            ]));
                            i += 2;
                            continue;
                        }
                    }
                }
                out.push(expand(&items[i]));
                i += 1;
            }
            Value::list(out)
        }
        _ => v.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(v: &Value) -> String {
        v.key()
    }

    #[test]
    fn expands_infix() {
        assert_eq!(show(&expand(&Value::str("w/2"))), r#"["/","w",2]"#);
        assert_eq!(show(&expand(&Value::str("frame*2"))), r#"["*","frame",2]"#);
        assert_eq!(
            show(&expand(&Value::str("w-s*2"))),
            r#"["-","w",["*","s",2]]"#
        );
        assert_eq!(
            show(&expand(&Value::str("width/5*0.5"))),
            r#"["*",["/","width",5],0.5]"#
        );
        assert_eq!(
            show(&expand(&Value::str("fade:red-blue"))),
            r#""fade:red-blue""#
        );
        assert_eq!(show(&expand(&Value::str("-frame"))), r#""-frame""#);
    }
}
