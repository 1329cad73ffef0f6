//! The bundle job's input, its JSON Schema, and the checks the schema cannot express (which
//! fields belong to which kind of piece, and the host's limits).

use std::collections::BTreeMap;

use kiln_sdk::Error;
use kiln_sdk::host::JobLimits;
use schemars::JsonSchema;
use serde::Deserialize;

/// A KidLisp piece's canvas side when the input does not say, in art pixels (the `kidlisp` job
/// type's default).
pub const DEFAULT_SIDE: u32 = 128;
/// Frames per second a KidLisp bundle plays at when the input does not say (the `kidlisp` job
/// type's default, and aesthetic.computer's).
pub const DEFAULT_FPS: f64 = 60.0;
/// Evaluation steps a KidLisp frame may take when the input does not say (the `kidlisp` job
/// type's default, aesthetic.computer's own `maxSteps`).
pub const DEFAULT_MAX_STEPS: u64 = 100_000;

/// A piece to pack into one self-contained, offline HTML file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(extend("x-kiln-limits" = {"page": {"width": "width", "height": "height"}}))]
pub struct BundleInput {
    /// What the piece is: `kidlisp` (played by the `kidlisp` job type's renderer compiled to
    /// WebAssembly), `p5` (a sketch, with the p5 the `p5` job type would load, inlined) or `js`
    /// (a page of HTML, CSS and JavaScript, as the `js` job type takes it).
    pub kind: Kind,
    /// kidlisp: the piece's KidLisp source. Give this or `code`.
    pub source: Option<String>,
    /// kidlisp: the piece by its code (`$cow` or `cow`): the host fetches its source and its
    /// embeds' (the `sources` capability). p5: the sketch's JavaScript, as the `p5` job takes it.
    #[schemars(length(min = 1))]
    pub code: Option<String>,
    /// p5: the p5 line, `"1"` or `"2"` (default: the one the sketch's APIs point to, as for the
    /// `p5` job type).
    pub p5_version: Option<kiln_sdk::p5::Version>,
    /// kidlisp: sources of the pieces it embeds, keyed by code with its `$` (with `source`,
    /// every `$code` it runs must be here; with `code`, an entry here replaces the fetched one).
    #[serde(default)]
    pub sources: BTreeMap<String, String>,
    /// kidlisp: images for its `#code` stamps, keyed by code with its `#`: each a PNG,
    /// base64-encoded (a `data:image/png;base64,` prefix is allowed).
    #[serde(default)]
    pub stamps: BTreeMap<String, String>,
    /// kidlisp: canvas width in art pixels (default 128).
    #[schemars(range(min = 1, max = 4096))]
    pub width: Option<u32>,
    /// kidlisp: canvas height in art pixels (default 128).
    #[schemars(range(min = 1, max = 4096))]
    pub height: Option<u32>,
    /// kidlisp: frames per second the page plays at, 1–120 (default 60). The piece's clock
    /// moves `1000 / fps` ms a frame, as in the `kidlisp` job type.
    #[schemars(range(min = 1, max = 120))]
    pub fps: Option<f64>,
    /// kidlisp: evaluation steps a frame may take (default 100,000).
    #[schemars(range(min = 1, max = 10_000_000))]
    pub max_steps: Option<u64>,
    /// js: the page's HTML, a fragment or a whole document.
    #[serde(default)]
    pub html: String,
    /// js: the page's CSS.
    #[serde(default)]
    pub css: String,
    /// js: the page's JavaScript.
    #[serde(default)]
    pub javascript: String,
    /// The page's title and the colophon's piece name (default: the `$code`, else the kind).
    #[schemars(length(max = 200))]
    pub title: Option<String>,
    /// The colophon's author (default: the piece's owner when the host fetched it by code).
    #[schemars(length(max = 200))]
    pub author: Option<String>,
    /// kidlisp: CSS pixels per art pixel (default: the canvas fills the window, keeping its
    /// shape).
    #[schemars(range(min = 1, max = 16))]
    pub density: Option<u32>,
    /// Seeds the piece: KidLisp's `random` (0 to 4294967295; default 0), or `Math.random` in a
    /// js page (as the host seeds its own pages).
    pub seed: Option<u64>,
    /// `gzip` (default): the page gzip-compressed and base64-encoded inside a small loader that
    /// unpacks it with the browser's `DecompressionStream`; `none`: the plain page.
    #[serde(default)]
    pub compress: Compress,
    /// Minify the page's JavaScript (default true). A script the minifier cannot handle is kept
    /// as written, and the job's log says why.
    #[serde(default = "yes")]
    pub minify: bool,
}

/// What kind of piece a bundle holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A KidLisp piece.
    Kidlisp,
    /// A page of HTML, CSS and JavaScript.
    Js,
    /// A p5.js sketch.
    P5,
}

/// How the page is packed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Compress {
    /// Self-extracting: gzip (best level), base64, and a loader.
    #[default]
    Gzip,
    /// The plain page.
    None,
}

fn yes() -> bool {
    true
}

impl Kind {
    /// The kind's name, as the input spells it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Kidlisp => "kidlisp",
            Kind::Js => "js",
            Kind::P5 => "p5",
        }
    }
}

impl BundleInput {
    /// Checks what the schema cannot: that every field given belongs to the kind, that the kind
    /// has its piece, and the host's limits.
    pub fn check_against(&self, limits: &JobLimits) -> Result<(), Error> {
        let given = [
            ("source", self.source.is_some(), &[Kind::Kidlisp][..]),
            ("code", self.code.is_some(), &[Kind::Kidlisp, Kind::P5][..]),
            ("p5Version", self.p5_version.is_some(), &[Kind::P5][..]),
            ("sources", !self.sources.is_empty(), &[Kind::Kidlisp][..]),
            ("stamps", !self.stamps.is_empty(), &[Kind::Kidlisp][..]),
            ("width", self.width.is_some(), &[Kind::Kidlisp][..]),
            ("height", self.height.is_some(), &[Kind::Kidlisp][..]),
            ("fps", self.fps.is_some(), &[Kind::Kidlisp][..]),
            ("maxSteps", self.max_steps.is_some(), &[Kind::Kidlisp][..]),
            ("density", self.density.is_some(), &[Kind::Kidlisp][..]),
            ("html", !self.html.is_empty(), &[Kind::Js][..]),
            ("css", !self.css.is_empty(), &[Kind::Js][..]),
            ("javascript", !self.javascript.is_empty(), &[Kind::Js][..]),
        ];
        let foreign: Vec<&str> = given
            .iter()
            .filter(|(_, present, kinds)| *present && !kinds.contains(&self.kind))
            .map(|(name, _, _)| *name)
            .collect();
        if !foreign.is_empty() {
            return Err(Error::invalid_input(format!(
                "input.{}: not a field of a {} bundle (input.kind); leave it out",
                foreign.join(", input."),
                self.kind.name()
            )));
        }
        match self.kind {
            Kind::Kidlisp => {
                if self.source.is_some() == self.code.is_some() {
                    return Err(Error::invalid_input(
                        "input.source, input.code: give one: the piece's KidLisp as source, or \
                         its $code as code for the host to fetch",
                    ));
                }
                if self.seed.is_some_and(|seed| seed > u64::from(u32::MAX)) {
                    return Err(Error::invalid_input(
                        "input.seed: a KidLisp seed is 0 to 4294967295",
                    ));
                }
                kiln_sdk::size::check_page_size(
                    self.side(self.width),
                    self.side(self.height),
                    None,
                    limits,
                )
            }
            Kind::P5 => {
                if self
                    .code
                    .as_deref()
                    .is_none_or(|code| code.trim().is_empty())
                {
                    return Err(Error::invalid_input(
                        "input.code: a p5 bundle needs the sketch's JavaScript",
                    ));
                }
                Ok(())
            }
            Kind::Js => {
                if self.html.is_empty() && self.css.is_empty() && self.javascript.is_empty() {
                    return Err(Error::invalid_input(
                        "input.html, input.css and input.javascript are all empty: give at least one",
                    ));
                }
                Ok(())
            }
        }
    }

    /// A KidLisp canvas side, the default when not given.
    pub fn side(&self, given: Option<u32>) -> u32 {
        given.unwrap_or(DEFAULT_SIDE)
    }
}
