//! The S3 side of [`super`], through paws-store.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use paws_store::listing::{self, checked_name, last_part};
use paws_store::{S3Url, StoreError, S3, SUCCESS_MARKER};

/// A local path for a command's input, downloaded first when the input is on S3 (the
/// temporary folder lives as long as this value).
pub struct Input {
    pub path: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

/// Where a command writes: a local path, or a temporary local path uploaded to S3 by
/// [`Output::publish_dir`] / [`Output::publish_file`].
pub struct Output {
    local: PathBuf,
    remote: Option<(S3, S3Url, tempfile::TempDir)>,
    shown: String,
}

fn temp_dir() -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix("paws-s3-")
        .tempdir()
        .context("creating a temporary folder for S3 transfers")
}

/// `path` itself, or for an `s3://` URL a local copy: of the object, or of the objects
/// directly under the prefix (a Parquet folder must hold `_SUCCESS`: a folder without
/// it is an unfinished run).
pub fn input(path: &Path) -> Result<Input> {
    let Some(url) = S3Url::from_path(path)? else {
        return Ok(Input {
            path: path.to_path_buf(),
            _temp: None,
        });
    };
    let t = Instant::now();
    let s3 = S3::connect()?;
    let temp = temp_dir()?;
    if !url.key.is_empty() && !url.key.ends_with('/') {
        if let Some(size) = s3.object_size(&url)? {
            let dest = temp.path().join(checked_name(&url)?);
            s3.download(&url, &dest)?;
            log::info!(
                "downloaded {url} ({:.1} MB) in {:.2} s",
                size as f64 / 1e6,
                t.elapsed().as_secs_f64()
            );
            return Ok(Input {
                path: dest,
                _temp: Some(temp),
            });
        }
    }
    let objects = s3.list(&url)?;
    // The objects of this "folder", not of its subfolders, and no folder markers.
    let files = listing::files_under(&url, &objects)?;
    if files.is_empty() {
        let url = url.to_string();
        return Err(if url.ends_with('/') {
            StoreError::EmptyPrefix { url }
        } else {
            StoreError::NoSuchKey { url }
        }
        .into());
    }
    let finished = files.iter().any(|(_, name)| *name == SUCCESS_MARKER);
    if !finished && files.iter().any(|(_, name)| name.ends_with(".parquet")) {
        return Err(StoreError::NotFinished {
            url: url.join("").to_string(),
        }
        .into());
    }
    let folder = temp.path().join("input");
    std::fs::create_dir(&folder).with_context(|| format!("creating {}", folder.display()))?;
    let items: Vec<_> = files
        .iter()
        .filter(|(_, name)| *name != SUCCESS_MARKER)
        .map(|(o, name)| (o.url.clone(), folder.join(name)))
        .collect();
    let bytes = s3.download_all(&items)?;
    log::info!(
        "downloaded {} objects ({:.1} MB) under {} in {:.2} s",
        items.len(),
        bytes as f64 / 1e6,
        url.join(""),
        t.elapsed().as_secs_f64()
    );
    Ok(Input {
        path: folder,
        _temp: Some(temp),
    })
}

impl Output {
    /// `path` itself, or for an `s3://` URL a temporary local path; the bucket is
    /// checked now, before any long work.
    pub fn new(path: &Path) -> Result<Output> {
        let shown = path.display().to_string();
        let Some(url) = S3Url::from_path(path)? else {
            return Ok(Output {
                local: path.to_path_buf(),
                remote: None,
                shown,
            });
        };
        let s3 = S3::connect()?;
        s3.check_bucket(&url.bucket)?;
        let temp = temp_dir()?;
        // The local output is named like the URL's last part (what the messages and
        // the published files show); `runs/..` must not make the temporary folder's
        // parent the output.
        let named = S3Url {
            bucket: url.bucket.clone(),
            key: url.key.trim_end_matches('/').to_string(),
        };
        let name = match last_part(&named.key) {
            "" => "output".to_string(),
            _ => checked_name(&named)?.to_string(),
        };
        Ok(Output {
            local: temp.path().join(name),
            remote: Some((s3, url, temp)),
            shown,
        })
    }

    /// Where the command writes locally.
    pub fn local(&self) -> &Path {
        &self.local
    }

    /// Where the user asked for the output, `name` inside it (for messages).
    pub fn shown(&self, name: &str) -> String {
        match &self.remote {
            Some((_, url, _)) => url.join(name).to_string(),
            None => Path::new(&self.shown).join(name).display().to_string(),
        }
    }

    /// Uploads the finished local folder under the S3 prefix: the old `_SUCCESS` is
    /// removed first, then every file is uploaded, objects of an earlier run that this
    /// run did not write are deleted, and `_SUCCESS` is written last. A reader that
    /// sees `_SUCCESS` sees this run's objects only. A no-op for a local output.
    pub fn publish_dir(&self) -> Result<()> {
        let Some((s3, url, _)) = &self.remote else {
            return Ok(());
        };
        let t = Instant::now();
        let marker = url.join(SUCCESS_MARKER);
        s3.delete(&marker)?;
        let mut written = Vec::new();
        for file in files_under(&self.local)? {
            let relative = file
                .strip_prefix(&self.local)
                .expect("listed under the folder")
                .to_string_lossy()
                .replace('\\', "/");
            let object = url.join(&relative);
            s3.upload_file(&file, &object)
                .with_context(|| format!("uploading {}", file.display()))?;
            written.push(object.key);
        }
        for stale in s3.list(url)? {
            if !written.contains(&stale.url.key) && stale.url.key != marker.key {
                s3.delete(&stale.url)?;
            }
        }
        s3.put_bytes(&marker, Vec::new())?;
        log::info!(
            "uploaded {} files and {SUCCESS_MARKER} to {} in {:.2} s",
            written.len(),
            url.join(""),
            t.elapsed().as_secs_f64()
        );
        Ok(())
    }

    /// Uploads the finished local file as the S3 object (whole or absent: multipart
    /// uploads are aborted on failure). A no-op for a local output.
    pub fn publish_file(&self) -> Result<()> {
        let Some((s3, url, _)) = &self.remote else {
            return Ok(());
        };
        let t = Instant::now();
        s3.upload_file(&self.local, url)
            .with_context(|| format!("uploading {}", self.local.display()))?;
        log::info!("uploaded {url} in {:.2} s", t.elapsed().as_secs_f64());
        Ok(())
    }
}

/// Every file under `dir`, recursively, in name order.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in
            std::fs::read_dir(&folder).with_context(|| format!("listing {}", folder.display()))?
        {
            let path = entry
                .with_context(|| format!("listing {}", folder.display()))?
                .path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}
