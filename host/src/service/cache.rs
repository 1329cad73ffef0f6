//! Result-cache keys: the same job type, plugin version and input give the same key, whatever
//! the order of the input's object keys.

use sha2::{Digest, Sha256};

/// The cache key of a job of `plugin`@`version` with `input`.
pub fn key(plugin: &str, version: &str, input: &serde_json::Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(plugin.as_bytes());
    hasher.update([0]);
    hasher.update(version.as_bytes());
    hasher.update([0]);
    write_canonical(input, &mut hasher);
    hex::encode(hasher.finalize())
}

/// The hash of a submitted envelope as an idempotency key remembers it: the id the client chose
/// (none when the API made one up), the type, the input (object keys in any order) and the
/// callback.
pub fn request_hash(client_id: Option<&str>, spec: &crate::jobs::JobSpec) -> String {
    let envelope = serde_json::json!({
        "id": client_id,
        "type": spec.job_type,
        "input": spec.input,
        "callback": spec.callback,
    });
    let mut hasher = Sha256::new();
    write_canonical(&envelope, &mut hasher);
    hex::encode(hasher.finalize())
}

/// Feeds `value` to the hasher as JSON with object keys sorted.
fn write_canonical(value: &serde_json::Value, hasher: &mut Sha256) {
    match value {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            hasher.update(b"{");
            for key in keys {
                hasher.update(serde_json::to_string(key).unwrap_or_default().as_bytes());
                hasher.update(b":");
                write_canonical(&map[key], hasher);
                hasher.update(b",");
            }
            hasher.update(b"}");
        }
        serde_json::Value::Array(items) => {
            hasher.update(b"[");
            for item in items {
                write_canonical(item, hasher);
                hasher.update(b",");
            }
            hasher.update(b"]");
        }
        scalar => hasher.update(scalar.to_string().as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_does_not_matter_but_values_and_versions_do() {
        let a = key("p5", "0.1.0", &json!({"width": 10, "code": "x"}));
        let b = key("p5", "0.1.0", &json!({"code": "x", "width": 10}));
        assert_eq!(a, b);
        assert_ne!(a, key("p5", "0.1.1", &json!({"code": "x", "width": 10})));
        assert_ne!(a, key("p5", "0.1.0", &json!({"code": "x", "width": 11})));
        assert_ne!(a, key("js", "0.1.0", &json!({"code": "x", "width": 10})));
    }
}
