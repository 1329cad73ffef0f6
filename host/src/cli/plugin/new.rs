//! `kiln plugin new NAME`: a plugin crate that builds, from templates in `template/`. It depends
//! on kiln-sdk by version, as a crate outside this tree would; `--sdk` adds a path override.

use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

const CARGO_TOML: &str = include_str!("template/Cargo.toml.txt");
const LIB_RS: &str = include_str!("template/lib.rs.txt");
const README: &str = include_str!("template/README.md.txt");
/// Job cases `kiln plugin test` runs (`tests/jobs/`).
const HELLO_CASE: &str = include_str!("template/hello.json.txt");
const TOO_LONG_CASE: &str = include_str!("template/too-long.json.txt");
const GITIGNORE: &str = "/target\n";

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The job type: 1–64 of a-z, 0-9 and '-'. Also the folder name.
    pub name: String,
    /// Where to create the folder.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Take kiln-sdk from a folder instead of crates.io (a `[patch.crates-io]` override): `--sdk
    /// DIR`, or `--sdk` alone for the SDK of the source tree this kiln was built from. Without
    /// it the crate depends on kiln-sdk by version only.
    #[arg(long, num_args = 0..=1, value_name = "DIR")]
    pub sdk: Option<Option<PathBuf>>,
}

/// The `[patch.crates-io]` table that takes kiln-sdk from `sdk` (a folder).
fn sdk_patch(sdk: &std::path::Path) -> String {
    format!(
        "\n# kiln-sdk from a folder instead of crates.io (kiln plugin new --sdk).\n\
         [patch.crates-io]\nkiln-sdk = {{ path = {:?} }}\n",
        sdk.to_string_lossy()
    )
}

pub fn run(args: NewArgs) -> Result<ExitCode> {
    let name = &args.name;
    // The same rule the host applies to `describe()` at load.
    crate::plugins::check_name(name)?;
    let root = args.dir.join(name);
    if root.exists() {
        bail!("{} already exists", root.display());
    }
    let patch = match args.sdk {
        None => String::new(),
        Some(folder) => {
            let sdk = folder
                .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../sdk")));
            let sdk = sdk.canonicalize().with_context(|| {
                format!(
                    "the SDK is not at {} (give its folder with --sdk DIR)",
                    sdk.display()
                )
            })?;
            sdk_patch(&sdk)
        }
    };
    let crate_name = format!("kiln-plugin-{name}");
    let crate_file = crate_name.replace('-', "_");
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{crate}}", &crate_name)
            .replace("{{crate_file}}", &crate_file)
            .replace("{{sdk_version}}", env!("CARGO_PKG_VERSION"))
            .replace("{{sdk_patch}}", &patch)
    };
    for dir in ["src", "tests/jobs"] {
        std::fs::create_dir_all(root.join(dir))
            .with_context(|| format!("creating {}", root.join(dir).display()))?;
    }
    for (path, text) in [
        ("Cargo.toml", fill(CARGO_TOML)),
        ("src/lib.rs", fill(LIB_RS)),
        ("README.md", fill(README)),
        (".gitignore", GITIGNORE.to_string()),
        ("tests/jobs/hello.json", HELLO_CASE.to_string()),
        ("tests/jobs/too-long.json", TOO_LONG_CASE.to_string()),
    ] {
        std::fs::write(root.join(path), text)
            .with_context(|| format!("writing {}", root.join(path).display()))?;
    }
    eprintln!(
        "created {} (job type `{name}`); build it with `kiln plugin build {}`",
        root.display(),
        root.display()
    );
    Ok(ExitCode::SUCCESS)
}
