//! The `bundle` job type: one self-contained HTML file per piece that plays offline, with no
//! request beyond the file itself, as the oven's bundler makes them (shared/OVEN.md §9) but from
//! Kiln's own runtimes.
//!
//! - `kidlisp`: the `kidlisp` job type's renderer compiled to WebAssembly (`player/`, about
//!   350 KB, where the oven's bundles carry aesthetic.computer's megabytes of runtime), the piece
//!   with its embeds and stamps, and a small player (player.js) that blits each frame to a canvas
//!   at the piece's frame rate: frame `n` is byte for byte the `kidlisp` job's frame `n`.
//! - `js`: the `js` job type's `html` artifact (kiln-js-document), its JavaScript minified.
//!
//! Each page carries a colophon (colophon.rs). Scripts are minified with oxc (minify.rs); the page
//! is then gzip-compressed, base64-encoded and wrapped in a loader that unpacks it with
//! `DecompressionStream` (pack.rs), unless `compress` is `none`. The job stores `index.html` and
//! `bundle.json` (`bytes`, `bytesUncompressed`, `files`, `minified`, `minifyKept`, `compressor`,
//! `filename`, `kind`, `name`, `author`, `packTime`, `embeds`, `source`).

mod colophon;
mod input;
mod js;
mod kidlisp;
mod minify;
mod p5;
mod pack;

use colophon::{Colophon, Moment};
use input::{BundleInput, Compress, Kind};
use kiln_sdk::prelude::*;
use minify::Minifier;
use pack::Page;

struct Bundle;

impl Plugin for Bundle {
    type Input = BundleInput;
    const NAME: &'static str = "bundle";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const SUMMARY: &'static str = "Packs a KidLisp or js piece into one self-contained, minified, self-extracting HTML file that plays offline";
    // `sources` fetches a KidLisp piece given by `code`; `media` makes the file's blob and
    // `storage` stores it. No browser: nothing is rendered, only packed.
    const CAPABILITIES: &'static [Capability] =
        &[Capability::Media, Capability::Storage, Capability::Sources];

    fn run(_job: &JobContext, input: BundleInput) -> Result<Vec<Artifact>, Error> {
        input.check_against(&host::limits())?;
        let packed_at = Moment::now();
        let mut minifier = Minifier::new(input.minify);
        let (page, colophon) = match input.kind {
            Kind::Kidlisp => kidlisp_page(&input, packed_at, &mut minifier)?,
            Kind::Js => js_page(&input, packed_at, &mut minifier),
            Kind::P5 => p5_page(&input, packed_at, &mut minifier)?,
        };
        host::progress(0.6, "generate");
        let packed = page.pack(input.compress == Compress::Gzip)?;
        host::progress(0.9, "compress");
        let report = serde_json::json!({
            "bytes": packed.html.len(),
            "bytesUncompressed": packed.bytes_uncompressed,
            "files": colophon.file_count,
            "minified": minifier.all_minified(),
            "minifyKept": minifier.kept,
            "compressor": match input.compress {
                Compress::Gzip => "gzip",
                Compress::None => "none",
            },
            "filename": colophon.filename,
            "kind": input.kind.name(),
            "name": colophon.name,
            "author": colophon.author,
            "packTime": colophon.packed.iso(),
            "embeds": colophon.embeds,
            "source": colophon.source,
        });
        let html = Blob::new(packed.html.as_bytes(), "text/html; charset=utf-8");
        let json = serde_json::to_vec_pretty(&report).expect("JSON serializes");
        let artifacts = vec![
            storage::put("index.html", &html)?,
            storage::put("bundle.json", &Blob::new(&json, "application/json"))?,
        ];
        host::progress(1.0, "stored");
        Ok(artifacts)
    }
}

fn kidlisp_page(
    input: &BundleInput,
    packed_at: Moment,
    minifier: &mut Minifier,
) -> Result<(Page, Colophon), Error> {
    let resolved = kidlisp::resolve(input)?;
    host::progress(0.2, "fetch");
    let piece = kidlisp::piece(input, &resolved)?;
    kidlisp::check(&piece, &resolved)?;
    kidlisp::log_packed(&piece);
    host::progress(0.4, "deps");
    let name = input
        .title
        .clone()
        .or_else(|| resolved.code.clone())
        .unwrap_or_else(|| "kidlisp".to_string());
    let handle = resolved.code.as_ref().and(resolved.handle.as_deref());
    let colophon = Colophon {
        filename: colophon::filename(
            Kind::Kidlisp,
            resolved.code.as_deref().unwrap_or(&name),
            handle.or(Some("anon")).filter(|_| resolved.code.is_some()),
            packed_at,
        ),
        name,
        kind: Kind::Kidlisp,
        source: resolved.source.clone(),
        author: input
            .author
            .clone()
            .or_else(|| resolved.handle.clone())
            .unwrap_or_else(|| "anon".to_string()),
        packed: packed_at,
        file_count: kidlisp::file_count(&piece),
        embeds: piece.embeds.len(),
        runtime: Some(format!("kidlisp@{}", env!("CARGO_PKG_VERSION"))),
    };
    let page = kidlisp::page(input, &piece, &colophon, minifier);
    Ok((page, colophon))
}

fn js_page(input: &BundleInput, packed_at: Moment, minifier: &mut Minifier) -> (Page, Colophon) {
    let name = input.title.clone().unwrap_or_else(|| "js".to_string());
    let colophon = Colophon {
        filename: colophon::filename(Kind::Js, &name, None, packed_at),
        name,
        kind: Kind::Js,
        source: input.javascript.clone(),
        author: input.author.clone().unwrap_or_else(|| "anon".to_string()),
        packed: packed_at,
        file_count: [&input.html, &input.css, &input.javascript]
            .iter()
            .filter(|part| !part.is_empty())
            .count(),
        embeds: 0,
        runtime: None,
    };
    let page = js::page(input, &colophon.json(), &colophon.name, minifier);
    (page, colophon)
}

fn p5_page(
    input: &BundleInput,
    packed_at: Moment,
    minifier: &mut Minifier,
) -> Result<(Page, Colophon), Error> {
    let name = input.title.clone().unwrap_or_else(|| "p5".to_string());
    let library = p5::library(input)?;
    let colophon = Colophon {
        filename: colophon::filename(Kind::P5, &name, None, packed_at),
        name,
        kind: Kind::P5,
        source: input.code.clone().unwrap_or_default(),
        author: input.author.clone().unwrap_or_else(|| "anon".to_string()),
        packed: packed_at,
        // The library and the sketch.
        file_count: 2,
        embeds: 0,
        runtime: Some(library.runtime.clone()),
    };
    let page = p5::page(input, &library, &colophon.json(), &colophon.name, minifier);
    Ok((page, colophon))
}

kiln_sdk::export_plugin!(Bundle);
