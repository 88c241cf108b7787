//! `paws convert`: legacy JSON folder to Parquet.

use anyhow::{Context, Result};
use paws_core::data::parquet_io::write_parquet;
use std::path::Path;

pub fn run(folder: &Path, output: &Path, extractor: &str) -> Result<()> {
    let out = crate::storage::Output::new(output)?;
    paws_report::staging::check_output_path(out.local(), false)?;
    let input = crate::storage::input(folder)?;
    let data = super::load_features(&input.path, extractor)?;
    write_parquet(out.local(), &data).context("writing features")?;
    out.publish_file()?;
    log::info!("wrote {} rows to {}", data.len(), output.display());
    Ok(())
}
