//! A third-party plugin (not one of Kiln's own job types) that declares the `sources`
//! capability and calls it: `{"code": "cow"}` stores the resolved source as `piece.json`;
//! `{"limit": 3, "handle": "@x"}` stores the listing as `listing.json`. Without the grant its
//! calls fail `denied`; with it, it shows what a plugin gets.

use kiln_sdk::prelude::*;
use kiln_sdk::sources;
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

struct Probe;

impl Plugin for Probe {
    type Input = Input;
    const NAME: &'static str = "sources-probe";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const SUMMARY: &'static str = "Test plugin: fetches piece sources through the host";
    const CAPABILITIES: &'static [Capability] = &[Capability::Storage, Capability::Sources];

    fn run(_job: &JobContext, input: Input) -> Result<Vec<Artifact>, Error> {
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
            (None, None) => return Err(Error::invalid_input("input: give code or limit")),
        };
        let bytes = serde_json::to_vec(&json).expect("JSON serializes");
        Ok(vec![storage::put(
            name,
            &Blob::new(&bytes, "application/json"),
        )?])
    }
}

kiln_sdk::export_plugin!(Probe);
