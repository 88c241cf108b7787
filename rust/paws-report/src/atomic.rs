//! Atomic writes of report files, through [`paws_core::data::atomic`]: readers see the old
//! file or the complete new one, never a half-written file. Errors name the path.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use crate::error::{ReportError, Result};

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let io_err = |e| ReportError::io(path, e);
    paws_core::data::atomic::write_atomic_with(path, io_err, |temp| {
        let mut file = OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(temp)
            .map_err(io_err)?;
        file.write_all(bytes).map_err(io_err)
    })
}
