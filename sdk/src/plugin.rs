//! The typed plugin trait and the glue between it and the generated WIT exports.

use crate::__private::{Job, PluginInfo};
use crate::{Artifact, Capability, Error};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

/// What a job's `run` knows besides its input.
#[derive(Debug, Clone)]
pub struct JobContext {
    /// The job's id; the host stores artifacts under `<id>/<name>`.
    pub id: String,
}

/// A Kiln job type. Implement it and call [`crate::export_plugin!`].
pub trait Plugin {
    /// The job's input. Its JSON Schema (from `schemars`) is what `describe` returns and what the
    /// host validates every job against, so `#[serde(deny_unknown_fields)]` and
    /// `#[schemars(range(..))]` on it become checks clients see before anything is queued.
    type Input: DeserializeOwned + JsonSchema;
    /// The job type this plugin serves, e.g. `p5`.
    const NAME: &'static str;
    /// The plugin's semantic version; `env!("CARGO_PKG_VERSION")` is the usual choice.
    const VERSION: &'static str;
    /// One line for `kiln plugins` and `GET /plugins`.
    const SUMMARY: &'static str;
    /// The host interfaces the plugin calls.
    const CAPABILITIES: &'static [Capability];

    /// Runs one job.
    fn run(job: &JobContext, input: Self::Input) -> Result<Vec<Artifact>, Error>;
}

/// Builds the `describe` answer for `P`. Called by [`crate::export_plugin!`].
pub fn describe<P: Plugin>() -> PluginInfo {
    let schema = schemars::schema_for!(P::Input);
    PluginInfo {
        name: P::NAME.to_string(),
        version: P::VERSION.to_string(),
        summary: P::SUMMARY.to_string(),
        input_schema: serde_json::to_string(&schema).expect("a JSON Schema serializes"),
        capabilities: P::CAPABILITIES.to_vec(),
    }
}

/// Parses the job's input into `P::Input` and runs `P`. Called by [`crate::export_plugin!`].
pub fn run<P: Plugin>(job: Job) -> Result<Vec<Artifact>, Error> {
    let input = parse_input::<P::Input>(&job.input)?;
    P::run(&JobContext { id: job.id }, input)
}

/// Deserializes with the JSON path of the first offending field in the error, e.g.
/// `input.width: invalid type: string "a", expected u32`.
fn parse_input<T: DeserializeOwned>(json: &str) -> Result<T, Error> {
    let de = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let at = if path == "." {
            "input".to_string()
        } else {
            format!("input.{path}")
        };
        Error::invalid_input(format!("{at}: {}", err.inner()))
    })
}

/// Exports a [`Plugin`] implementation as the component's `describe` and `run`.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[doc(hidden)]
        struct __KilnPluginExport;

        impl $crate::__private::Guest for __KilnPluginExport {
            fn describe() -> $crate::__private::PluginInfo {
                $crate::describe::<$plugin>()
            }
            fn run(
                job: $crate::__private::Job,
            ) -> ::core::result::Result<::std::vec::Vec<$crate::Artifact>, $crate::Error> {
                $crate::run::<$plugin>(job)
            }
        }

        $crate::__private::export_bindings!(__KilnPluginExport with_types_in $crate::bindings);
    };
}
