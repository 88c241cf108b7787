//! Feature extraction for a folder of Oxford-IIIT-Pet-style photos, in parallel.
//!
//! Every regular, non-hidden file of the folder (not its subfolders) is an input, taken
//! in file-name order; its breed comes from its name (`Bengal_12.jpg` is a `Bengal`).
//! Images are decoded and run on rayon's pool, all workers sharing one [`Extractor`];
//! rows come out in file-name order whatever the scheduling, so output is deterministic.
//!
//! A file whose name has no breed, or that cannot be decoded (unknown format, truncated,
//! corrupt), is skipped with its reason in lenient mode, and is an error naming it in
//! strict mode. In strict mode the error reported is always the one of the first bad
//! file in name order.

use crate::decode::decode_file;
use crate::error::{Result, VisionError};
use crate::extractor::{Extractor, Output};
use paws_core::data::dataset::breed_from_file_name;
use paws_core::Dataset;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// The features of a folder of photos.
#[derive(Debug, Clone)]
pub struct Extraction {
    /// One row per extracted image, in file-name order.
    pub dataset: Dataset,
    /// The logits of every row, row-major (`extractor.logits_dim()` per row), when the
    /// extractor has a logits output.
    pub logits: Option<Vec<f32>>,
    /// Files that were not extracted, with the reason, in file-name order.
    pub skipped: Vec<(PathBuf, String)>,
}

/// The regular, non-hidden files directly in `folder`, sorted by file name.
pub fn list_files(folder: &Path) -> Result<Vec<PathBuf>> {
    let io_err = |cause| VisionError::Io {
        path: folder.to_path_buf(),
        cause,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        // Follows symbolic links: a link to a photo is a photo.
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => files.push(path),
            Ok(_) => {}
            Err(cause) => return Err(VisionError::Io { path, cause }),
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

/// Extracts the features of every photo in `folder` (see the module docs).
///
/// `progress(done, total)` is called on the calling thread, first with `done == 0`, then
/// after every file. Fails when the folder cannot be read, when no image at all could be
/// extracted, or, with `strict`, at the first file that cannot be used.
pub fn extract_folder(
    folder: &Path,
    extractor: &Extractor,
    strict: bool,
    progress: &dyn Fn(usize, usize),
) -> Result<Extraction> {
    let files = list_files(folder)?;
    let total = files.len();

    // Names first: cheap, and a strict run fails before any decoding.
    let mut work: Vec<(usize, &Path, String, String)> = Vec::with_capacity(total);
    let mut failures: Vec<(usize, VisionError)> = Vec::new();
    for (ix, path) in files.iter().enumerate() {
        let name = path.file_name().and_then(|n| n.to_str());
        match name.and_then(|n| breed_from_file_name(n).map(|b| (n, b))) {
            Some((name, breed)) => work.push((ix, path, name.to_string(), breed.to_string())),
            None => {
                let err = VisionError::BadFileName { path: path.clone() };
                if strict {
                    return Err(err);
                }
                failures.push((ix, err));
            }
        }
    }

    // Lowest index of a failed file (strict mode stops work on later files).
    let first_failure = AtomicUsize::new(usize::MAX);
    let run_one = |ix: usize, path: &Path, name: &str| -> Option<Result<Output>> {
        if strict && ix > first_failure.load(Ordering::Relaxed) {
            return None;
        }
        let result = decode_file(path).and_then(|img| extractor.run_image(&img, name));
        if result.is_err() {
            first_failure.fetch_min(ix, Ordering::Relaxed);
        }
        Some(result)
    };

    progress(0, total);
    let (tx, rx) = mpsc::channel::<()>();
    let results: Vec<Option<Result<Output>>> = std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            let tx = tx; // dropped when the work is done, which ends the progress loop
            work.par_iter()
                .map(|(ix, path, name, _)| {
                    let r = run_one(*ix, path, name);
                    let _ = tx.send(());
                    r
                })
                .collect::<Vec<_>>()
        });
        let mut done = total - work.len();
        for () in rx {
            done += 1;
            progress(done, total);
        }
        match worker.join() {
            Ok(results) => results,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    });

    let mut features = Vec::with_capacity(work.len() * extractor.dim());
    let mut logits = extractor
        .logits_dim()
        .map(|n| Vec::with_capacity(work.len() * n));
    let mut images = Vec::with_capacity(work.len());
    let mut breeds = Vec::with_capacity(work.len());
    for ((ix, _, name, breed), result) in work.iter().zip(results) {
        match result {
            Some(Ok(out)) => {
                features.extend_from_slice(&out.features);
                if let (Some(all), Some(l)) = (logits.as_mut(), out.logits) {
                    all.extend_from_slice(&l);
                }
                images.push(name.clone());
                breeds.push(breed.clone());
            }
            Some(Err(e)) => failures.push((*ix, e)),
            None => {}
        }
    }
    failures.sort_by_key(|(ix, _)| *ix);
    if strict && !failures.is_empty() {
        return Err(failures.swap_remove(0).1);
    }
    let skipped: Vec<(PathBuf, String)> = failures
        .into_iter()
        .map(|(ix, e)| {
            log::warn!("skipped {e}");
            (files[ix].clone(), e.to_string())
        })
        .collect();
    if images.is_empty() {
        return Err(VisionError::NoImages {
            path: folder.to_path_buf(),
            skipped: skipped.len(),
        });
    }
    let dataset = Dataset::new(
        extractor.dim(),
        features,
        images,
        breeds,
        extractor.info(),
        folder.display().to_string(),
    )?;
    Ok(Extraction {
        dataset,
        logits,
        skipped,
    })
}
