//! Page libraries installed from npm (`host/web/package.json`), held in memory and served on every
//! job origin at `/.kiln/lib/<name>@<version>/<file>`, byte for byte as npm shipped them.

use anyhow::{Context, Result};
use bytes::Bytes;
use std::path::Path;

/// Where libraries are served: this path on each job's own origin. Same-origin, so when a page's
/// origin ring comes back to an origin, Blink's memory cache still holds the library it loaded
/// there, compiled code included (a library at one shared URL is re-fetched and recompiled on every
/// origin change: the memory cache keeps one entry per URL, and a CORS entry only for the origin
/// that requested it; measured in docs/benchmarks.md).
pub const LIBRARY_PATH: &str = "/.kiln/lib/";

/// One served library file.
#[derive(Debug, Clone)]
pub struct Library {
    pub name: String,
    pub version: String,
    /// The root-relative URL every page loads it from, on its own origin.
    pub url: String,
    pub bytes: Bytes,
    /// The licence `package.json` names (e.g. `LGPL-2.1`).
    pub license: String,
    /// The package's licence file (name, bytes), when it ships one.
    pub license_file: Option<(String, Bytes)>,
}

impl Library {
    /// The served file's name (the last segment of its URL, e.g. `p5.min.js`).
    pub fn file_name(&self) -> &str {
        self.url.rsplit('/').next().unwrap_or(&self.url)
    }
}

/// Licence files a package may ship, in the order looked for.
const LICENSE_FILES: [&str; 4] = ["LICENSE", "LICENSE.md", "license.txt", "LICENSE.txt"];

/// The libraries this host serves.
#[derive(Debug, Clone, Default)]
pub struct Libraries {
    items: Vec<Library>,
}

/// `(npm folder, library name, file inside the package)`: both p5 lines, installed side by side
/// (`p5` is 2.x, `p5-v1` is the 1.x alias).
const KNOWN: &[(&str, &str, &str)] = &[
    ("p5", "p5", "lib/p5.min.js"),
    ("p5-v1", "p5", "lib/p5.min.js"),
];

impl Libraries {
    /// Reads the known libraries from a `node_modules` folder.
    pub fn load(node_modules: &Path) -> Result<Self> {
        let mut items = Vec::new();
        for (folder, name, file) in KNOWN {
            let package = node_modules.join(folder);
            let manifest: serde_json::Value = serde_json::from_slice(
                &std::fs::read(package.join("package.json")).with_context(|| {
                    format!(
                        "{name} is not installed at {} — run `npm ci --prefix host/web` (the README's setup does)",
                        package.display()
                    )
                })?,
            )
            .with_context(|| format!("parsing {}/package.json", package.display()))?;
            let version = manifest["version"]
                .as_str()
                .with_context(|| format!("{}/package.json has no version", package.display()))?
                .to_string();
            let bytes = std::fs::read(package.join(file))
                .with_context(|| format!("reading {}", package.join(file).display()))?;
            let file_name = Path::new(file)
                .file_name()
                .and_then(|f| f.to_str())
                .unwrap_or(file);
            let license = manifest["license"]
                .as_str()
                .unwrap_or("see the package")
                .to_string();
            let license_file = LICENSE_FILES.iter().find_map(|file| {
                let bytes = std::fs::read(package.join(file)).ok()?;
                Some((file.to_string(), Bytes::from(bytes)))
            });
            items.push(Library {
                url: format!("{}{name}@{version}/{file_name}", LIBRARY_PATH),
                name: name.to_string(),
                version,
                bytes: bytes.into(),
                license,
                license_file,
            });
        }
        Ok(Self { items })
    }

    /// Libraries given directly (tests).
    #[cfg(test)]
    pub fn from_items(items: Vec<Library>) -> Self {
        Self { items }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Library> {
        self.items.iter()
    }

    /// The library served at `path` on a job origin (query ignored), if any.
    pub fn by_path(&self, path: &str) -> Option<&Library> {
        let path = path.split(['?', '#']).next().unwrap_or(path);
        self.items.iter().find(|lib| lib.url == path)
    }
}
