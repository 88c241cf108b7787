//! `paws convert`: legacy JSON folder to Parquet.

use anyhow::{Context, Result};
use paws_core::data::parquet_io::write_parquet;
use std::path::Path;

pub fn run(folder: &Path, output: &Path, extractor: &str) -> Result<()> {
    let data = super::load_features(folder, extractor)?;
    write_parquet(output, &data).with_context(|| format!("writing {}", output.display()))?;
    log::info!("wrote {} rows to {}", data.len(), output.display());
    Ok(())
}
