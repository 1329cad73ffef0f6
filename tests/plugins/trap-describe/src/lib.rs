//! A plugin whose `describe` traps (its input schema panics while being generated): the host must
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
        panic!("describe traps on purpose")
    }
}

struct TrapDescribe;

impl Plugin for TrapDescribe {
    type Input = Input;
    const NAME: &'static str = "trap-describe";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const SUMMARY: &'static str = "Test plugin: traps in describe";
    const CAPABILITIES: &'static [Capability] = &[];

    fn run(_job: &JobContext, _input: Input) -> Result<Vec<Artifact>, Error> {
        Ok(Vec::new())
    }
}

kiln_sdk::export_plugin!(TrapDescribe);
