//! A p5 bundle: the sketch with the p5 the `p5` job type would pick for it (the same version
//! rules, `kiln_sdk::p5`), the library inlined byte for byte from the host's installed copy
//! (`kiln:render/libraries`) with its licence notice beside it, and the `p5` job's seeding
//! (`randomSeed` and `noiseSeed` before `setup`). The sketch is minified; p5 is not (npm ships it
//! minified, and its `/*!` notice stays as shipped).

use crate::input::BundleInput;
use crate::minify::Minifier;
use crate::pack::Page;
use kiln_sdk::host::{self, LogLevel};
use kiln_sdk::libraries::{self, InstalledLibrary};
use kiln_sdk::{Error, p5};

/// Seeds the sketch before its `setup`, as the `p5` job's harness does (p5 1.x and 2.x).
const SEED_JS: &str = r#"(() => {
  const seed = {{seed}};
  if (seed === null) return;
  const before = (p) => { p.randomSeed(seed); p.noiseSeed(seed); };
  if (typeof p5.registerAddon === "function") {
    p5.registerAddon((_p5, _fn, lifecycles) => { lifecycles.presetup = function () { before(this); }; });
  } else {
    p5.prototype.registerMethod("beforeSetup", function () { before(this); });
  }
})();"#;

/// The p5 a bundle carries: the library's text and its licence notice.
pub struct Library {
    /// `p5@2.x.y`, for the colophon.
    pub runtime: String,
    script: String,
    notice: String,
}

/// The p5 the `p5` job type would pick for the input's sketch, read from the host.
pub fn library(input: &BundleInput) -> Result<Library, Error> {
    let code = input.code.as_deref().unwrap_or_default();
    let library = p5::installed_for(code, input.p5_version)?;
    let bytes = libraries::read(&library.name, &library.version, &library.main)?;
    let script = String::from_utf8(bytes).map_err(|_| {
        Error::internal(format!(
            "{}@{} on this host is not UTF-8 text",
            library.name, library.version
        ))
    })?;
    host::log(
        LogLevel::Info,
        &format!(
            "packing p5 {} ({} bytes, licence {}) with the sketch",
            library.version,
            script.len(),
            library.license
        ),
    );
    Ok(Library {
        runtime: format!("p5@{}", library.version),
        notice: license_notice(&library)?,
        script,
    })
}

/// The p5 bundle's page.
pub fn page(
    input: &BundleInput,
    library: &Library,
    colophon_json: &str,
    title: &str,
    minifier: &mut Minifier,
) -> Page {
    let code = input.code.as_deref().unwrap_or_default();
    let sketch = minifier.minify("sketch", code);
    let seed = input
        .seed
        .map_or_else(|| "null".to_string(), |s| s.to_string());
    let html = format!(
        "<!doctype html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n\
         <link rel=\"icon\" href=\"data:,\">\n\
         <script id=\"kiln-colophon\" type=\"application/json\">{colophon_json}</script>\n\
         <style>html, body {{ margin: 0; padding: 0; overflow: hidden; }} canvas {{ display: block; }}</style>\n\
         <script type=\"text/plain\" id=\"kiln-license-p5\">{notice}</script>\n\
         <script>{p5}</script>\n<script>{seeding}</script>\n<script>{sketch}</script>\n\
         </head>\n<body></body>\n</html>\n",
        title = escape_text(title),
        notice = library.notice,
        p5 = script_safe(&library.script),
        seeding = SEED_JS.replace("{{seed}}", &seed),
        sketch = script_safe(&sketch),
    );
    Page {
        title: title.to_string(),
        html,
        files: Vec::new(),
    }
}

/// The library's licence: its name and the package's licence file, as text that cannot close
/// the element it sits in.
fn license_notice(library: &InstalledLibrary) -> Result<String, Error> {
    let mut notice = format!(
        "{}@{} is distributed under {} (its package's licence follows).\n\n",
        library.name, library.version, library.license
    );
    if let Some(file) = &library.license_file {
        let text = libraries::read(&library.name, &library.version, file)?;
        notice.push_str(&String::from_utf8_lossy(&text));
    }
    // A script element's text is raw: no entities, only its end tag to avoid.
    Ok(script_safe(&notice))
}

/// Text that cannot end a `<script>` element early.
fn script_safe(text: &str) -> String {
    text.replace("</script", "<\\/script")
        .replace("</SCRIPT", "<\\/SCRIPT")
}

/// Text for an element's content.
fn escape_text(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_cannot_be_closed_from_inside() {
        assert_eq!(script_safe("a</script>b"), "a<\\/script>b");
        assert_eq!(escape_text("<b> & c"), "&lt;b> &amp; c");
    }
}
