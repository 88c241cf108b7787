//! One module per subcommand.

mod convert;
mod experiment;
#[cfg(feature = "extract")]
mod extract;
#[cfg(feature = "extract")]
mod predict;
#[cfg(feature = "serve")]
mod serve;
mod train_breeds;

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
        Command::TrainBreeds(args) => train_breeds::run(args),
        Command::Predict(args) => predict(args),
        Command::Serve(args) => serve(args),
    }
}

#[cfg(feature = "serve")]
fn serve(args: paws_args::ServeArgs) -> Result<()> {
    serve::run(args)
}

#[cfg(not(feature = "serve"))]
fn serve(_args: paws_args::ServeArgs) -> Result<()> {
    anyhow::bail!(
        "this paws was built without `paws serve` (scripts/demo.sh's quick build); \
         build the full paws with `bash scripts/build.sh`"
    )
}

#[cfg(feature = "extract")]
fn predict(args: paws_args::PredictArgs) -> Result<()> {
    predict::run(args)
}

/// `paws predict` extracts features from the photos, so it needs the CNN too.
#[cfg(not(feature = "extract"))]
fn predict(_args: paws_args::PredictArgs) -> Result<()> {
    anyhow::bail!(
        "this paws was built without feature extraction (scripts/demo.sh's quick build), \
         which `paws predict` needs to read photos; build the full paws with `bash scripts/build.sh`"
    )
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
    repo_file("examples/oxford-pets-sample/features.parquet")
}

/// The few-photo set of the 34 breeds the sample lacks (6 photos each).
pub fn embedded_few_photos() -> PathBuf {
    repo_file("examples/oxford-pets-37-few/features.parquet")
}

/// The committed breed model of all 37 breeds (`paws train-breeds` on both sets).
#[cfg(feature = "extract")]
pub fn default_breed_model() -> PathBuf {
    repo_file("examples/models/breeds-37.json")
}

/// A file of the repository, found as [`embedded_features`] is.
fn repo_file(rel: &str) -> PathBuf {
    let rel = Path::new(rel);
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
