//! The piece store's answers, as aesthetic.computer's API shapes them, parsed strictly enough
//! that a wrong answer is named: what was missing or of the wrong type, and where.

use serde_json::Value;

/// A piece as the store's `store-kidlisp` endpoint answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSource {
    /// Its KidLisp source.
    pub source: String,
    /// Its owner's handle, when the answer names one.
    pub handle: Option<String>,
}

/// A piece of the top-pieces listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedPiece {
    /// Its code, without `$`.
    pub code: String,
    /// Its KidLisp source.
    pub source: String,
    /// How often it was played (0 when not given).
    pub hits: u64,
    /// Its owner's handle (`@jeffrey`), when it has an owner.
    pub handle: Option<String>,
}

/// `{"source": "…", "user": …}`: the source is required; a handle is taken from `handle`, or
/// from `user` when that is an `@handle` string or an object with a `handle`. The error says
/// what is wrong with the answer.
pub fn parse_source(body: &[u8]) -> Result<StoredSource, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON ({e})"))?;
    let Some(object) = value.as_object() else {
        return Err(format!(
            "a JSON {} where an object was expected",
            kind(&value)
        ));
    };
    let source = match object.get("source") {
        Some(Value::String(source)) => source.clone(),
        Some(other) => return Err(format!("`source` is a JSON {}, not a string", kind(other))),
        None => return Err("no `source` field".into()),
    };
    let handle = match (object.get("handle"), object.get("user")) {
        (Some(Value::String(handle)), _) => Some(handle.clone()),
        (_, Some(Value::String(user))) if user.starts_with('@') => Some(user.clone()),
        (_, Some(Value::Object(user))) => user
            .get("handle")
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => None,
    };
    Ok(StoredSource { source, handle })
}

/// `{"media": {"kidlisp": [{"code", "source", "hits", "owner": {"handle"}}]}}`: `code` and
/// `source` are required of every item (a leading `$` of the code is dropped); `hits` and
/// `owner` may be missing or null.
pub fn parse_listing(body: &[u8]) -> Result<Vec<ListedPiece>, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON ({e})"))?;
    let items = match value.pointer("/media/kidlisp") {
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(format!(
                "`media.kidlisp` is a JSON {}, not an array",
                kind(other)
            ));
        }
        None => return Err("no `media.kidlisp` array".into()),
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| listed(item).map_err(|why| format!("media.kidlisp[{i}]: {why}")))
        .collect()
}

fn listed(item: &Value) -> Result<ListedPiece, String> {
    let text = |field: &str| match item.get(field) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!("`{field}` is a JSON {}, not a string", kind(other))),
        None => Err(format!("no `{field}` field")),
    };
    if !item.is_object() {
        return Err(format!(
            "a JSON {} where an object was expected",
            kind(item)
        ));
    }
    let code = text("code")?;
    let code = code.strip_prefix('$').unwrap_or(&code).to_string();
    let source = text("source")?;
    let hits = match item.get("hits") {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
            .ok_or_else(|| format!("`hits` is {n}, not a count"))?,
        Some(other) => return Err(format!("`hits` is a JSON {}, not a number", kind(other))),
    };
    let handle = item
        .pointer("/owner/handle")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(ListedPiece {
        code,
        source,
        hits,
        handle,
    })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_source_has_its_source_and_maybe_a_handle() {
        let got = parse_source(br#"{"source": "(wipe red)", "user": "auth0|123"}"#).unwrap();
        assert_eq!(
            got,
            StoredSource {
                source: "(wipe red)".into(),
                handle: None
            }
        );
        let got = parse_source(br#"{"source": "x", "handle": "@jeffrey"}"#).unwrap();
        assert_eq!(got.handle.as_deref(), Some("@jeffrey"));
        let got = parse_source(br#"{"source": "x", "user": {"handle": "@amby"}}"#).unwrap();
        assert_eq!(got.handle.as_deref(), Some("@amby"));
    }

    #[test]
    fn a_wrong_stored_source_is_named() {
        assert!(parse_source(b"<html>").unwrap_err().starts_with("not JSON"));
        assert_eq!(
            parse_source(b"[1]").unwrap_err(),
            "a JSON array where an object was expected"
        );
        assert_eq!(
            parse_source(br#"{"user": "x"}"#).unwrap_err(),
            "no `source` field"
        );
        assert_eq!(
            parse_source(br#"{"source": 4}"#).unwrap_err(),
            "`source` is a JSON number, not a string"
        );
    }

    #[test]
    fn a_listing_is_read_in_order_with_optional_hits_and_owner() {
        let body = br#"{"media": {"kidlisp": [
            {"code": "$cow", "source": "(wipe red)", "hits": 10023, "owner": {"handle": "@jeffrey"}},
            {"code": "roz", "source": "(wipe blue)", "hits": 4634.0, "owner": null},
            {"code": "abc", "source": "(ink)"}
        ]}, "other": 1}"#;
        let got = parse_listing(body).unwrap();
        assert_eq!(
            got,
            vec![
                ListedPiece {
                    code: "cow".into(),
                    source: "(wipe red)".into(),
                    hits: 10023,
                    handle: Some("@jeffrey".into())
                },
                ListedPiece {
                    code: "roz".into(),
                    source: "(wipe blue)".into(),
                    hits: 4634,
                    handle: None
                },
                ListedPiece {
                    code: "abc".into(),
                    source: "(ink)".into(),
                    hits: 0,
                    handle: None
                },
            ]
        );
    }

    #[test]
    fn a_wrong_listing_is_named_down_to_the_item() {
        assert_eq!(
            parse_listing(b"{}").unwrap_err(),
            "no `media.kidlisp` array"
        );
        assert_eq!(
            parse_listing(br#"{"media": {"kidlisp": {}}}"#).unwrap_err(),
            "`media.kidlisp` is a JSON object, not an array"
        );
        assert_eq!(
            parse_listing(
                br#"{"media": {"kidlisp": [{"code": "a", "source": "x"}, {"code": "b"}]}}"#
            )
            .unwrap_err(),
            "media.kidlisp[1]: no `source` field"
        );
        assert_eq!(
            parse_listing(
                br#"{"media": {"kidlisp": [{"code": "a", "source": "x", "hits": "many"}]}}"#
            )
            .unwrap_err(),
            "media.kidlisp[0]: `hits` is a JSON string, not a number"
        );
        assert!(
            parse_listing(b"\x00garbage")
                .unwrap_err()
                .starts_with("not JSON")
        );
    }
}
