//! One module per subcommand.

mod convert;
mod experiment;
#[cfg(feature = "extract")]
mod extract;

use anyhow::{Context, Result};
use paws_args::Command;
use paws_core::data::{legacy, parquet_io};
use paws_core::Dataset;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub fn run(command: Command) -> Result<()> {
    match command {
        Command::Convert {
            folder,
            output,
            extractor,
        } => convert::run(&folder, &output, &extractor),
        Command::Extract(args) => extract(args),
        Command::Experiment(args) => experiment::run(args),
    }
}

#[cfg(feature = "extract")]
fn extract(args: paws_args::ExtractArgs) -> Result<()> {
    extract::run(args)
}

/// A `paws` built without the `extract` feature (scripts/demo.sh's quick build) says how
/// to get the full one.
#[cfg(not(feature = "extract"))]
fn extract(_args: paws_args::ExtractArgs) -> Result<()> {
    anyhow::bail!(
        "this paws was built without feature extraction (scripts/demo.sh's quick build); \
         build the full paws with `bash scripts/build.sh`"
    )
}

/// The embedded sample's features, relative to the working directory or, for a binary
/// run from elsewhere, to the source tree it was built from.
pub fn embedded_features() -> PathBuf {
    let rel = Path::new("examples/oxford-pets-sample/features.parquet");
    if rel.exists() {
        return rel.to_path_buf();
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// Reads a Parquet file, a Parquet folder of part files (Spark's output) or a legacy
/// JSON folder.
pub fn load_features(path: &Path, legacy_extractor: &str) -> Result<Dataset> {
    let t = Instant::now();
    let data = if path.is_dir() && !parquet_io::is_parquet_folder(path) {
        legacy::read_folder(path, legacy_extractor)
    } else {
        parquet_io::read_parquet(path)
    }
    .context("reading features")?;
    log::info!(
        "load: {} rows × {} features ({} classes, extractor {}) from {} in {:.3} s",
        data.len(),
        data.dim(),
        data.classes().len(),
        data.extractor().model,
        path.display(),
        t.elapsed().as_secs_f64()
    );
    Ok(data)
}
