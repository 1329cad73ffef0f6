//! Packing a page into the file a bundle is: plain, or self-extracting (gzip at the best level,
//! base64, and a small loader that unpacks it with the browser's `DecompressionStream`, as the
//! oven's bundler does, shared/OVEN.md §9.5).

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::write::GzEncoder;
use kiln_sdk::{Error, template};

/// Where a page's byte files go in its plain form; in the self-extracting form they travel after
/// the page's text instead, and the marker is removed.
pub const FILES_MARKER: &str = "<!--kiln-files-->";

const LOADER_HTML: &str = include_str!("loader.html");

/// A page ready to pack: its HTML and the files it reads as bytes (the KidLisp renderer's
/// module, the piece), which its scripts get with `kilnFile(name)` (player.js).
#[derive(Debug, Clone)]
pub struct Page {
    /// The document's title, also the loader's.
    pub title: String,
    /// The document, with [`FILES_MARKER`] where plain files go (before any script reads them).
    pub html: String,
    /// Files by name.
    pub files: Vec<(String, Vec<u8>)>,
}

/// A packed bundle and its figures.
#[derive(Debug, Clone)]
pub struct Packed {
    /// The `index.html` to store.
    pub html: String,
    /// The page's size unpacked (the plain form's bytes).
    pub bytes_uncompressed: usize,
}

impl Page {
    /// The page as one plain file: each byte file a base64 data block at the marker.
    pub fn plain(&self) -> String {
        let mut blocks = String::new();
        for (name, bytes) in &self.files {
            blocks.push_str(&format!(
                "<script type=\"application/octet-stream\" id=\"kiln-file-{name}\">{}</script>\n",
                STANDARD.encode(bytes)
            ));
        }
        self.html.replacen(FILES_MARKER, &blocks, 1)
    }

    /// Packs the page as `compress` says.
    pub fn pack(&self, gzip: bool) -> Result<Packed, Error> {
        let plain = self.plain();
        if !gzip {
            return Ok(Packed {
                bytes_uncompressed: plain.len(),
                html: plain,
            });
        }
        let text = self.html.replacen(FILES_MARKER, "", 1);
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        let written = encoder.write_all(text.as_bytes()).and_then(|()| {
            self.files
                .iter()
                .try_for_each(|(_, bytes)| encoder.write_all(bytes))
        });
        let gzipped = written
            .and_then(|()| encoder.finish())
            .map_err(|e| Error::internal(format!("gzip: {e}")))?;
        let files: Vec<String> = self
            .files
            .iter()
            .map(|(name, bytes)| format!("[{},{}]", template::js_string(name), bytes.len()))
            .collect();
        let html = template::fill(
            LOADER_HTML,
            &[
                ("payload", &STANDARD.encode(&gzipped)),
                ("html_bytes", &text.len().to_string()),
                ("files", &format!("[{}]", files.join(","))),
                // Last: `fill` replaces in order, and the title is the one value a client writes.
                ("title", &template::html_escape(&self.title)),
            ],
        );
        Ok(Packed {
            html,
            bytes_uncompressed: plain.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;

    fn page() -> Page {
        Page {
            title: "a <b>".into(),
            html: format!("<!doctype html><body>{FILES_MARKER}<p>é</p></body>"),
            files: vec![("x.bin".into(), vec![0, 1, 2, 255])],
        }
    }

    #[test]
    fn plain_has_the_files_as_base64_blocks() {
        let plain = page().plain();
        assert!(plain.contains(
            "<script type=\"application/octet-stream\" id=\"kiln-file-x.bin\">AAEC/w==</script>"
        ));
        assert!(!plain.contains(FILES_MARKER));
        let packed = page().pack(false).unwrap();
        assert_eq!(packed.html, plain);
        assert_eq!(packed.bytes_uncompressed, plain.len());
    }

    #[test]
    fn gzip_payload_is_the_text_then_the_files() {
        let packed = page().pack(true).unwrap();
        assert!(packed.html.contains("<title>a &lt;b&gt;</title>"));
        let payload = packed
            .html
            .split("atob(\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let gz = STANDARD.decode(payload).unwrap();
        let mut bytes = Vec::new();
        GzDecoder::new(&gz[..]).read_to_end(&mut bytes).unwrap();
        let text = "<!doctype html><body><p>é</p></body>";
        assert_eq!(&bytes[..text.len()], text.as_bytes());
        assert_eq!(&bytes[text.len()..], &[0, 1, 2, 255]);
        assert!(
            packed
                .html
                .contains(&format!("const htmlBytes = {};", text.len()))
        );
        assert!(packed.html.contains("[[\"x.bin\",4]]"));
    }
}
