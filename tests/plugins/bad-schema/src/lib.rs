//! A plugin whose input schema is JSON but not a valid JSON Schema (`"type": 12`): the host must
//! refuse it at load, saying so, and keep serving the rest.

use kiln_sdk::prelude::*;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;
use std::borrow::Cow;

#[derive(Deserialize)]
struct Input {}

impl JsonSchema for Input {
    fn schema_name() -> Cow<'static, str> {
        "Input".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut schema = Schema::default();
        schema.insert("type".into(), 12.into());
        schema
    }
}

struct BadSchema;

impl Plugin for BadSchema {
    type Input = Input;
    const NAME: &'static str = "bad-schema";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const SUMMARY: &'static str = "Test plugin: returns an invalid JSON Schema";
    const CAPABILITIES: &'static [Capability] = &[];

    fn run(_job: &JobContext, _input: Input) -> Result<Vec<Artifact>, Error> {
        Ok(Vec::new())
    }
}

kiln_sdk::export_plugin!(BadSchema);
