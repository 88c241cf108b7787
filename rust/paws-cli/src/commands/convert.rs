//! `paws convert`: legacy JSON folder to Parquet.

use anyhow::{Context, Result};
use paws_core::data::parquet_io::write_parquet;
use std::path::Path;

pub fn run(folder: &Path, output: &Path, extractor: &str) -> Result<()> {
    paws_report::staging::check_output_path(output, false)?;
    let data = super::load_features(folder, extractor)?;
    write_parquet(output, &data).context("writing features")?;
    log::info!("wrote {} rows to {}", data.len(), output.display());
    Ok(())
}
