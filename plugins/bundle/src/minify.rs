//! Minifying a bundle's JavaScript with oxc (`oxc_minifier`: compress, mangle, minified
//! codegen), inside the plugin. Chosen over swc_ecma_minifier by measurement (docs/benchmarks.md,
//! "Bundles"). A script the minifier cannot handle (it does not parse) is kept as written, and
//! the job's log says which and why: a bundle is still made, only larger.

use kiln_sdk::host::{self, LogLevel};
use oxc_allocator::Allocator;
use oxc_codegen::{Codegen, CodegenOptions};
use oxc_minifier::{CompressOptions, MangleOptions, Minifier as Oxc, MinifierOptions};
use oxc_parser::Parser;
use oxc_span::SourceType;

/// Minifies a job's scripts and remembers how it went, for `bundle.json`.
#[derive(Debug)]
pub struct Minifier {
    enabled: bool,
    /// Scripts minified.
    pub minified: usize,
    /// Scripts kept as written because the minifier failed on them, by name.
    pub kept: Vec<String>,
}

impl Minifier {
    /// A minifier that minifies when `enabled` (`input.minify`), else passes scripts through.
    pub fn new(enabled: bool) -> Self {
        Minifier {
            enabled,
            minified: 0,
            kept: Vec::new(),
        }
    }

    /// `js` (a classic script called `name` in logs) minified, or as written when minifying is
    /// off or fails.
    pub fn minify(&mut self, name: &str, js: &str) -> String {
        if !self.enabled {
            return js.to_string();
        }
        match minify_script(js) {
            Ok(out) => {
                self.minified += 1;
                out
            }
            Err(reason) => {
                host::log(
                    LogLevel::Warn,
                    &format!("minify: {name} kept as written: {reason}"),
                );
                self.kept.push(name.to_string());
                js.to_string()
            }
        }
    }

    /// Whether every script was minified (false when minifying was off, or any was kept).
    pub fn all_minified(&self) -> bool {
        self.enabled && self.kept.is_empty()
    }
}

/// A classic script (not a module: its top-level names are the page's globals, so they are
/// neither renamed nor dropped) minified, or why not.
pub fn minify_script(js: &str) -> Result<String, String> {
    let allocator = Allocator::default();
    let parsed = Parser::new(&allocator, js, SourceType::script()).parse();
    if let Some(error) = parsed.diagnostics.errors().next() {
        return Err(format!("it does not parse: {error}"));
    }
    if parsed.panicked {
        return Err("it does not parse".to_string());
    }
    let mut program = parsed.program;
    let options = MinifierOptions {
        mangle: Some(MangleOptions::default()),
        mangle_properties: None,
        compress: Some(CompressOptions::default()),
    };
    let minified = Oxc::new(options).minify(&allocator, &mut program);
    Ok(Codegen::new()
        .with_options(CodegenOptions::minify())
        .with_scoping(minified.scoping)
        .build(&program)
        .code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minifies_and_keeps_globals() {
        let out = minify_script(
            "const KILN_PLAYER = { fps: 60 };\nfunction  go ( longName ) { return longName + 1 }\n",
        )
        .unwrap();
        assert!(out.contains("KILN_PLAYER") && out.contains("go"), "{out}");
        assert!(!out.contains("longName"), "{out}");
        assert!(out.len() < 60, "{out}");
    }

    #[test]
    fn a_script_that_does_not_parse_is_an_error() {
        let error = minify_script("function (").unwrap_err();
        assert!(error.contains("does not parse"), "{error}");
    }
}
