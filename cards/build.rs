//! Embeds the card fonts. They come from package registries, not from this repository:
//! Comic Relief Bold from npm (`@fontsource/comic-relief`, installed into `cards/fonts` by
//! `deploy/dev/setup.sh`, shipped as WOFF 1.0 and unpacked here into TrueType), DejaVu Sans Mono
//! and DejaVu Sans Mono Bold from Debian's `fonts-dejavu-core`. `KILN_CARD_FONTS_NPM` and
//! `KILN_CARD_FONTS_DEJAVU` override the two folders.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

const SETUP: &str = "run deploy/dev/setup.sh (it installs fonts-dejavu-core from Debian's packages and \
                     @fontsource/comic-relief from npm with `npm ci --prefix cards/fonts`)";

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets it"));
    println!("cargo::rerun-if-env-changed=KILN_CARD_FONTS_NPM");
    println!("cargo::rerun-if-env-changed=KILN_CARD_FONTS_DEJAVU");

    let npm = env::var_os("KILN_CARD_FONTS_NPM")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("fonts/node_modules/@fontsource/comic-relief/files"));
    let dejavu = env::var_os("KILN_CARD_FONTS_DEJAVU")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/fonts/truetype/dejavu"));

    let woff = read(&npm.join("comic-relief-latin-700-normal.woff"));
    let ttf = woff_to_ttf(&woff).unwrap_or_else(|e| {
        panic!(
            "{}: not a usable WOFF 1.0 font ({e}); {SETUP}",
            npm.join("comic-relief-latin-700-normal.woff").display()
        )
    });
    fs::write(out.join("ComicRelief-Bold.ttf"), ttf).expect("OUT_DIR is writable");
    for name in ["DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf"] {
        fs::write(out.join(name), read(&dejavu.join(name))).expect("OUT_DIR is writable");
    }
}

fn read(path: &Path) -> Vec<u8> {
    println!("cargo::rerun-if-changed={}", path.display());
    fs::read(path)
        .unwrap_or_else(|e| panic!("the card font {} is missing ({e}); {SETUP}", path.display()))
}

fn be16(b: &[u8], at: usize) -> Result<u16, String> {
    b.get(at..at + 2)
        .map(|s| u16::from_be_bytes([s[0], s[1]]))
        .ok_or_else(|| format!("truncated at byte {at}"))
}

fn be32(b: &[u8], at: usize) -> Result<u32, String> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| format!("truncated at byte {at}"))
}

/// WOFF 1.0 (W3C) to an sfnt: the same tables, each inflated where it was compressed, laid out
/// behind a rebuilt offset table. Checksums are copied from the WOFF directory.
fn woff_to_ttf(woff: &[u8]) -> Result<Vec<u8>, String> {
    if woff.get(0..4) != Some(b"wOFF") {
        return Err("no wOFF signature".into());
    }
    let flavor = be32(woff, 4)?;
    let count = usize::from(be16(woff, 12)?);
    let mut tables = Vec::with_capacity(count);
    for i in 0..count {
        let at = 44 + i * 20;
        let tag = be32(woff, at)?;
        let offset = be32(woff, at + 4)? as usize;
        let comp_len = be32(woff, at + 8)? as usize;
        let orig_len = be32(woff, at + 12)? as usize;
        let checksum = be32(woff, at + 16)?;
        let data = woff
            .get(offset..offset + comp_len)
            .ok_or_else(|| format!("table {i} runs past the file"))?;
        let data = if comp_len < orig_len {
            miniz_oxide::inflate::decompress_to_vec_zlib(data)
                .map_err(|e| format!("table {i} does not inflate: {e:?}"))?
        } else {
            data.to_vec()
        };
        if data.len() != orig_len {
            return Err(format!(
                "table {i} inflates to {} bytes, not {orig_len}",
                data.len()
            ));
        }
        tables.push((tag, checksum, data));
    }
    let mut power = 1usize;
    let mut log2 = 0u16;
    while power * 2 <= count {
        power *= 2;
        log2 += 1;
    }
    let search_range = (power * 16) as u16;
    let mut sfnt = Vec::new();
    sfnt.extend_from_slice(&flavor.to_be_bytes());
    sfnt.extend_from_slice(&(count as u16).to_be_bytes());
    sfnt.extend_from_slice(&search_range.to_be_bytes());
    sfnt.extend_from_slice(&log2.to_be_bytes());
    sfnt.extend_from_slice(&((count * 16) as u16 - search_range).to_be_bytes());
    let mut offset = 12 + count * 16;
    let mut body = Vec::new();
    for (tag, checksum, data) in &tables {
        sfnt.extend_from_slice(&tag.to_be_bytes());
        sfnt.extend_from_slice(&checksum.to_be_bytes());
        sfnt.extend_from_slice(&(offset as u32).to_be_bytes());
        sfnt.extend_from_slice(&(data.len() as u32).to_be_bytes());
        body.extend_from_slice(data);
        while body.len() % 4 != 0 {
            body.push(0);
        }
        offset = 12 + count * 16 + body.len();
    }
    sfnt.extend_from_slice(&body);
    Ok(sfnt)
}
