//! The breed model's JSON file (`paws-breed-model/1`): every breed's weights, its
//! species, the extractor whose features it takes, the temperature of its scores and
//! how it was trained. Written atomically; read back with every field checked, so a
//! truncated, edited or foreign file is refused with the field that is wrong rather
//! than giving wrong breeds.

use super::calibrate::softmax;
use super::metrics::ranking;
use super::train::BreedConfig;
use crate::data::dataset::{species_of, Extractor};
use crate::data::error::{PawsError, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::Path;

/// The `format` field of the current version.
pub const BREED_MODEL_FORMAT: &str = "paws-breed-model/1";

/// One breed's one-vs-rest model on raw features: `margin = weights·x + intercept`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreedWeights {
    pub name: String,
    /// `cat` or `dog` (Oxford-IIIT Pet: a capitalised breed name is a cat).
    pub species: String,
    pub intercept: f32,
    pub weights: Vec<f32>,
}

impl BreedWeights {
    pub fn margin(&self, x: &[f32]) -> f64 {
        let dot: f64 = x
            .iter()
            .zip(&self.weights)
            .map(|(&a, &b)| a as f64 * b as f64)
            .sum();
        dot + self.intercept as f64
    }
}

/// How the model was trained and how well it did on held-out photos.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreedTrainingInfo {
    pub config: BreedConfig,
    /// `paws-cli` (in process).
    pub engine: String,
    /// The feature files trained on.
    pub sources: Vec<String>,
    /// Rows the saved weights were trained on (all of them: see `refit`).
    pub rows: u64,
    /// The held-out evaluation: the same training without the held-out rows.
    pub holdout_rows: u64,
    pub holdout_top1: f64,
    pub holdout_top3: f64,
    /// Mean held-out negative log-likelihood at the fitted temperature and at T = 1.
    pub holdout_nll: f64,
    pub holdout_nll_t1: f64,
    /// The saved weights were trained again on every row (held-out ones included) once
    /// the evaluation and the temperature were done: with 6 photos of a breed, the
    /// sixth matters.
    pub refit: bool,
}

/// A trained breed predictor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreedModel {
    pub format: String,
    pub extractor: Extractor,
    pub feature_dim: usize,
    /// The softmax temperature of the scores.
    pub temperature: f64,
    pub breeds: Vec<BreedWeights>,
    pub training: BreedTrainingInfo,
}

/// One breed of a prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    pub breed: String,
    pub species: String,
    /// The calibrated score (softmax at the model's temperature; sums to 1 over all
    /// breeds).
    pub score: f64,
}

impl BreedModel {
    /// Every breed's margin for one feature row.
    pub fn margins(&self, x: &[f32]) -> Vec<f64> {
        self.breeds.iter().map(|b| b.margin(x)).collect()
    }

    /// Every breed's calibrated score, in breed order.
    pub fn scores(&self, x: &[f32]) -> Vec<f64> {
        softmax(&self.margins(x), self.temperature)
    }

    /// The `k` best breeds, best first.
    pub fn top(&self, x: &[f32], k: usize) -> Vec<Scored> {
        let margins = self.margins(x);
        let scores = softmax(&margins, self.temperature);
        ranking(&margins)
            .into_iter()
            .take(k)
            .map(|i| Scored {
                breed: self.breeds[i].name.clone(),
                species: self.breeds[i].species.clone(),
                score: scores[i],
            })
            .collect()
    }

    /// Refuses features from another extractor than the model's (`path` names the
    /// model file in the error).
    pub fn check_extractor(&self, path: &Path, features: &Extractor) -> Result<()> {
        if *features != self.extractor {
            return Err(PawsError::ExtractorMismatch {
                path: path.to_path_buf(),
                expected: self.extractor.model.clone(),
                expected_dim: self.extractor.dim,
                found: features.model.clone(),
                found_dim: features.dim,
            });
        }
        Ok(())
    }

    /// Writes the JSON atomically (temporary file, then rename). Compact: 37 breeds ×
    /// 1281 numbers are half a megabyte on one line, twice that pretty-printed.
    pub fn save(&self, path: &Path) -> Result<()> {
        self.validate(path)?;
        let mut json = serde_json::to_vec(self).map_err(|e| PawsError::BadModel {
            path: path.to_path_buf(),
            field: "(json)".into(),
            message: e.to_string(),
        })?;
        json.push(b'\n');
        crate::data::atomic::write_atomic(path, &json)
    }

    /// Reads and checks a model file: its format version first (a file of another
    /// version is named as such, not as a missing field), then every field.
    pub fn load(path: &Path) -> Result<BreedModel> {
        let bytes = std::fs::read(path).map_err(|e| PawsError::io(path, e))?;
        Self::from_slice(path, &bytes)
    }

    /// A model file's bytes, checked as [`BreedModel::load`] checks them; `path` names
    /// the file in errors.
    pub fn from_slice(path: &Path, bytes: &[u8]) -> Result<BreedModel> {
        let bad = |field: &str, message: String| PawsError::BadModel {
            path: path.to_path_buf(),
            field: field.to_string(),
            message,
        };
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| bad("(json)", format!("not JSON: {e}")))?;
        match value.get("format").and_then(|f| f.as_str()) {
            Some(BREED_MODEL_FORMAT) => {}
            Some(other) => {
                return Err(bad(
                    "format",
                    format!("'{other}', expected '{BREED_MODEL_FORMAT}' (a file of another version or kind)"),
                ))
            }
            None => return Err(bad("format", format!("missing; expected '{BREED_MODEL_FORMAT}'"))),
        }
        let model: BreedModel = serde_json::from_value(value).map_err(|e| {
            let message = e.to_string();
            // serde names a missing field as "missing field `temperature`".
            let field = message
                .split('`')
                .nth(1)
                .filter(|_| message.starts_with("missing field"))
                .unwrap_or("(json)")
                .to_string();
            bad(&field, message)
        })?;
        model.validate(path)?;
        Ok(model)
    }

    /// Every field consistent: the dimension everywhere, finite numbers, known and
    /// unique breed names with their species, a positive temperature.
    pub fn validate(&self, path: &Path) -> Result<()> {
        let bad = |field: String, message: String| {
            Err(PawsError::BadModel {
                path: path.to_path_buf(),
                field,
                message,
            })
        };
        if self.format != BREED_MODEL_FORMAT {
            return bad(
                "format".into(),
                format!("'{}', expected '{BREED_MODEL_FORMAT}'", self.format),
            );
        }
        if self.feature_dim == 0 || self.extractor.dim != self.feature_dim {
            return bad(
                "feature_dim".into(),
                format!(
                    "{}, but the extractor '{}' has dim {}",
                    self.feature_dim, self.extractor.model, self.extractor.dim
                ),
            );
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return bad(
                "temperature".into(),
                format!("{} is not a positive number", self.temperature),
            );
        }
        if self.breeds.len() < 2 {
            return bad(
                "breeds".into(),
                format!(
                    "{} breed(s); a predictor needs at least 2",
                    self.breeds.len()
                ),
            );
        }
        let mut names = HashSet::new();
        for (i, b) in self.breeds.iter().enumerate() {
            let field = |f: &str| format!("breeds[{i}] ('{}').{f}", b.name);
            if b.name.is_empty() || !names.insert(b.name.as_str()) {
                return bad(field("name"), "empty or repeated breed name".into());
            }
            if b.species != species_of(&b.name) {
                return bad(
                    field("species"),
                    format!(
                        "'{}', but by the Oxford-IIIT Pet naming rule (capitalised = cat) '{}' is a {}",
                        b.species,
                        b.name,
                        species_of(&b.name)
                    ),
                );
            }
            if b.weights.len() != self.feature_dim {
                return Err(PawsError::WrongDimension {
                    path: path.to_path_buf(),
                    expected: self.feature_dim,
                    found: b.weights.len(),
                });
            }
            if let Some(j) = b.weights.iter().position(|w| !w.is_finite()) {
                return bad(
                    field(&format!("weights[{j}]")),
                    "not a finite number".into(),
                );
            }
            if !b.intercept.is_finite() {
                return bad(field("intercept"), "not a finite number".into());
            }
        }
        Ok(())
    }
}
