//! A `paws` without S3 support (scripts/demo.sh's quick build): local paths only, and an
//! `s3://` path says how to get the full build.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

pub struct Input {
    pub path: PathBuf,
}

pub struct Output {
    local: PathBuf,
}

fn local_only(path: &Path) -> Result<()> {
    if path.to_str().is_some_and(|s| s.starts_with("s3://")) {
        bail!(
            "{}: this paws was built without S3 support (scripts/demo.sh's quick build); \
             build the full paws with `bash scripts/build.sh`",
            path.display()
        );
    }
    Ok(())
}

pub fn input(path: &Path) -> Result<Input> {
    local_only(path)?;
    Ok(Input {
        path: path.to_path_buf(),
    })
}

impl Output {
    pub fn new(path: &Path) -> Result<Output> {
        local_only(path)?;
        Ok(Output {
            local: path.to_path_buf(),
        })
    }

    pub fn local(&self) -> &Path {
        &self.local
    }

    pub fn shown(&self, name: &str) -> String {
        self.local.join(name).display().to_string()
    }

    pub fn publish_dir(&self) -> Result<()> {
        Ok(())
    }

    pub fn publish_file(&self) -> Result<()> {
        Ok(())
    }
}
