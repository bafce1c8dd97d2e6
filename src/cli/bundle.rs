//! `sockstack bundle`: handlers → out/assets/<handler>-<source hash>.zip.

use super::{BAD_INPUT, ProjectPaths};
use crate::bundle::{self, Arch, Options, Progress};
use std::path::PathBuf;
use std::process::ExitCode;

pub const LONG_ABOUT: &str = "\
Build the Lambda handlers and zip each one as `bootstrap` for the provided.al2023 runtime.

Every binary of the project's handler crate (or the ones named) is built with the `lambda` size
profile for the chosen architecture, checked to need glibc 2.34 at most, and
zipped reproducibly (fixed timestamps, mode 0755, remapped source paths: the same sources give
the same bytes). Each zip is named <handler>-<hash of its sources>.zip, the S3 key the
synthesized template already refers to.

The project is found from any folder inside it (walking up to the folder with sockstack.toml
or stacks/); its handler crate is the one sockstack.toml names, and the zips go to the root's
out/assets/. --handlers and --out, when given, are relative to the working folder.

arm64 is cross-built with cargo-zigbuild and zig from PyPI (`make bundle-tools` installs them
into .venv, with the Rust target) or Debian's gcc-aarch64-linux-gnu. x86_64 on an x86_64
machine needs nothing extra.

Exit codes: 0 ok, 1 the build failed or a binary needs too new a glibc, 2 bad input or a
missing tool.";

pub const EXAMPLES: &str = "\
Examples:
  sockstack bundle                         every handler, arm64 -> out/assets/
  sockstack bundle --arch x86_64 connect   only connect, for x86_64
  sockstack bundle --out build/assets";

/// Arguments of `bundle`.
#[derive(Debug, Clone, clap::Args)]
pub struct BundleArgs {
    /// Lambda architecture to build for.
    #[arg(long, value_enum, default_value_t = Arch::Arm64)]
    pub arch: Arch,

    /// The handler crate, relative to the working folder
    /// [default: the project's, from sockstack.toml, else <root>/handlers].
    #[arg(long, value_name = "DIR")]
    pub handlers: Option<PathBuf>,

    /// Where the zips are written, relative to the working folder [default: <project root>/out/assets].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Handlers to bundle [default: all].
    #[arg(value_name = "HANDLER")]
    pub names: Vec<String>,
}

fn megabytes(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1_000_000.0)
}

pub fn run(args: &BundleArgs) -> ExitCode {
    let paths = ProjectPaths {
        stacks_dir: None,
        handlers: args.handlers.clone(),
    };
    let project = match paths.project() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: bundle: {e}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    let out_dir = match &args.out {
        Some(dir) => dir.clone(),
        None => project.out_dir(&super::cwd()).join("assets"),
    };
    let options = Options {
        arch: args.arch,
        handlers_dir: project.handlers_dir.clone(),
        out_dir: out_dir.clone(),
        handlers: args.names.clone(),
    };
    let mut report = |event: Progress| match event {
        Progress::Building { handlers, command } => {
            eprintln!(
                "bundle: building {} for {} ({}): {command}",
                handlers.join(", "),
                args.arch,
                args.arch.triple()
            );
        }
        Progress::Wrote(b) => {
            let glibc = b.glibc.map_or("static".to_string(), |(major, minor)| {
                format!("glibc {major}.{minor}")
            });
            eprintln!(
                "bundle: {} -> {} ({} zipped, {} bootstrap, {glibc})",
                b.handler,
                b.path.display(),
                megabytes(b.zip_bytes),
                megabytes(b.binary_bytes)
            );
        }
    };
    match bundle::bundle(&options, &mut report) {
        Ok(bundles) if bundles.is_empty() => {
            eprintln!("bundle: no handlers in {}", options.handlers_dir.display());
            ExitCode::from(BAD_INPUT)
        }
        Ok(bundles) => {
            eprintln!(
                "bundle: {} bundle(s) for {} in {}",
                bundles.len(),
                args.arch,
                out_dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: bundle: {e}");
            ExitCode::from(if e.is_bad_input() { 2 } else { 1 })
        }
    }
}
