//! `kiln plugin new NAME`: a plugin crate that builds, from templates in `template/`.

use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

const CARGO_TOML: &str = include_str!("template/Cargo.toml.txt");
const LIB_RS: &str = include_str!("template/lib.rs.txt");
const README: &str = include_str!("template/README.md.txt");
const GITIGNORE: &str = "/target\n";

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The job type: 1–64 of a-z, 0-9 and '-'. Also the folder name.
    pub name: String,
    /// Where to create the folder.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// The kiln-sdk crate to depend on. Default: the SDK of the source tree this kiln was built
    /// from.
    #[arg(long)]
    pub sdk: Option<PathBuf>,
}

pub fn run(args: NewArgs) -> Result<ExitCode> {
    let name = &args.name;
    // The same rule the host applies to `describe()` at load.
    crate::plugins::check_name(name)?;
    let root = args.dir.join(name);
    if root.exists() {
        bail!("{} already exists", root.display());
    }
    let sdk = match args.sdk {
        Some(sdk) => sdk,
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../sdk")),
    };
    let sdk = sdk.canonicalize().with_context(|| {
        format!(
            "the SDK is not at {} (give its folder with --sdk)",
            sdk.display()
        )
    })?;
    let crate_name = format!("kiln-plugin-{name}");
    let crate_file = crate_name.replace('-', "_");
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{crate}}", &crate_name)
            .replace("{{crate_file}}", &crate_file)
            .replace("{{sdk}}", &sdk.to_string_lossy())
    };
    std::fs::create_dir_all(root.join("src"))
        .with_context(|| format!("creating {}", root.display()))?;
    for (path, text) in [
        ("Cargo.toml", fill(CARGO_TOML)),
        ("src/lib.rs", fill(LIB_RS)),
        ("README.md", fill(README)),
        (".gitignore", GITIGNORE.to_string()),
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
