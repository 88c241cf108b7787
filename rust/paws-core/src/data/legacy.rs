//! The legacy feature layout written by the original VGG16 extraction scripts: a folder
//! of `<breed>_<n>.jpg.json` files, each a flat JSON array of floats.

use crate::data::dataset::{breed_from_file_name, Dataset, Extractor};
use crate::data::error::{PawsError, Result};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Reads every `*.json` file of `folder` (sorted by name, so row order is stable).
/// Other files are ignored. The first file fixes the dimension; the extractor id is
/// `extractor` (the legacy files do not record it).
pub fn read_folder(folder: &Path, extractor_model: &str) -> Result<Dataset> {
    let entries = std::fs::read_dir(folder).map_err(|e| PawsError::io(folder, e))?;
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| PawsError::io(folder, e))?.path();
        if path.extension().is_some_and(|e| e == "json") && path.is_file() {
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(PawsError::EmptyFolder {
            path: folder.to_path_buf(),
        });
    }
    files.sort();
    let parsed: Vec<(String, String, Vec<f32>)> = files
        .par_iter()
        .map(|path| {
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            let breed = breed_from_file_name(&name)
                .ok_or_else(|| PawsError::BadFileName { path: path.clone() })?
                .to_string();
            let bytes = std::fs::read(path).map_err(|e| PawsError::io(path, e))?;
            let values = parse_feature_array(path, &bytes)?;
            let image = name.strip_suffix(".json").unwrap_or(&name).to_string();
            Ok((image, breed, values))
        })
        .collect::<Result<_>>()?;

    let dim = parsed[0].2.len();
    let mut features = Vec::with_capacity(dim * parsed.len());
    let (mut images, mut breeds) = (Vec::new(), Vec::new());
    for ((image, breed, values), path) in parsed.into_iter().zip(&files) {
        if values.len() != dim {
            return Err(PawsError::WrongDimension {
                path: path.clone(),
                expected: dim,
                found: values.len(),
            });
        }
        features.extend_from_slice(&values);
        images.push(image);
        breeds.push(breed);
    }
    let extractor = Extractor {
        model: extractor_model.to_string(),
        dim,
    };
    Dataset::new(
        dim,
        features,
        images,
        breeds,
        extractor,
        folder.display().to_string(),
    )
}

/// Parses one flat array. Python's `json.dump` writes `NaN` and `Infinity`, which are
/// not JSON: strict parsing fails on them, so a second, lenient pass finds such a value
/// and reports its index instead of a vague syntax error.
pub fn parse_feature_array(path: &Path, bytes: &[u8]) -> Result<Vec<f32>> {
    match serde_json::from_slice::<Vec<f64>>(bytes) {
        Ok(values) => {
            if values.is_empty() {
                return Err(PawsError::MalformedJson {
                    path: path.to_path_buf(),
                    message: "empty array".into(),
                });
            }
            let out: Vec<f32> = values.iter().map(|&v| v as f32).collect();
            if let Some(i) = out.iter().position(|v| !v.is_finite()) {
                return Err(non_finite(path, i, &values[i].to_string()));
            }
            Ok(out)
        }
        Err(strict) => {
            if let Some((i, token)) = find_non_finite_token(bytes) {
                return Err(non_finite(path, i, &token));
            }
            Err(PawsError::MalformedJson {
                path: path.to_path_buf(),
                message: strict.to_string(),
            })
        }
    }
}

fn non_finite(path: &Path, index: usize, value: &str) -> PawsError {
    PawsError::NonFinite {
        path: path.to_path_buf(),
        location: format!("feature index {index}"),
        what: "value",
        value: value.to_string(),
    }
}

/// In a text shaped like `[a, b, ...]`, the index and text of the first element that
/// parses as a non-finite float (`NaN`, `Infinity`, `-Infinity`, `inf`).
fn find_non_finite_token(bytes: &[u8]) -> Option<(usize, String)> {
    let text = std::str::from_utf8(bytes).ok()?.trim();
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    inner.split(',').enumerate().find_map(|(i, tok)| {
        let tok = tok.trim();
        match tok.parse::<f64>() {
            Ok(v) if !v.is_finite() => Some((i, tok.to_string())),
            _ => None,
        }
    })
}
