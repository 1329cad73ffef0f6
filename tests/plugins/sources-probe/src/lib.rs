//! A third-party plugin (not one of Kiln's own job types) that declares the `sources`
//! capability and calls it: `{"code": "cow"}` stores the resolved source as `piece.json`;
//! `{"limit": 3, "handle": "@x"}` stores the listing as `listing.json`. Without the grant its
//! calls fail `denied`; with it, it shows what a plugin gets.
//!
//! It is built straight from `wit/v1.3.0` with wit-bindgen (not the SDK, which follows the newest
//! contract), so that a plugin compiled against 1.3.0 keeps being served.

wit_bindgen::generate!({
    path: "../../../wit/v1.3.0",
    world: "kiln:render/plugin@1.3.0",
});

use kiln::render::media::Blob;
use kiln::render::types::ErrorKind;
use kiln::render::{sources, storage};
use schemars::JsonSchema;
use serde::Deserialize;

/// The job's input.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Input {
    code: Option<String>,
    limit: Option<u32>,
    handle: Option<String>,
}

fn invalid(message: String) -> Error {
    Error {
        kind: ErrorKind::InvalidInput,
        message,
    }
}

struct Probe;

impl Guest for Probe {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "sources-probe".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            summary: "Test plugin (kiln:render@1.3.0): fetches piece sources through the host"
                .into(),
            input_schema: serde_json::to_string(&schemars::schema_for!(Input))
                .expect("the schema serializes"),
            capabilities: vec![Capability::Storage, Capability::Sources],
        }
    }

    fn run(job: Job) -> Result<Vec<Artifact>, Error> {
        let input: Input =
            serde_json::from_str(&job.input).map_err(|e| invalid(format!("input: {e}")))?;
        let (name, json) = match (input.code, input.limit) {
            (Some(code), _) => {
                let piece = sources::kidlisp_source(&code)?;
                let embeds: Vec<_> = piece
                    .embeds
                    .iter()
                    .map(|e| serde_json::json!({"code": e.code, "source": e.source}))
                    .collect();
                let json = serde_json::json!({
                    "code": piece.code,
                    "source": piece.source,
                    "handle": piece.handle,
                    "embeds": embeds,
                });
                ("piece.json", json)
            }
            (None, Some(limit)) => {
                let pieces = sources::top_kidlisp(limit, input.handle.as_deref())?;
                let json: Vec<_> = pieces
                    .iter()
                    .map(|p| {
                        serde_json::json!({"code": p.code, "source": p.source, "hits": p.hits,
                            "handle": p.handle})
                    })
                    .collect();
                ("listing.json", serde_json::Value::Array(json))
            }
            (None, None) => return Err(invalid("input: give code or limit".into())),
        };
        let bytes = serde_json::to_vec(&json).expect("JSON serializes");
        let blob = Blob::new(&bytes, "application/json");
        Ok(vec![storage::put(name, &blob)?])
    }
}

export!(Probe);
