//! A trained linear model, as used for prediction and as saved to JSON.

use crate::dataset::Extractor;
use crate::error::{PawsError, Result};
use crate::gradient::LossKind;
use crate::sgd::SgdParams;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Weights and intercept apply to raw features (standardisation is folded in).
/// An SVM predicts 1 when the margin is above the threshold (MLlib's default 0.0); a
/// logistic model when the probability is above its threshold (default 0.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearModel {
    pub kind: LossKind,
    pub weights: Vec<f64>,
    pub intercept: f64,
    pub threshold: f64,
}

impl LinearModel {
    pub fn default_threshold(kind: LossKind) -> f64 {
        match kind {
            LossKind::Hinge => 0.0,
            LossKind::Logistic => 0.5,
        }
    }

    pub fn margin(&self, x: &[f32]) -> f64 {
        crate::gradient::dot(x, &self.weights) + self.intercept
    }

    /// The score compared with the threshold: the margin, or the probability.
    pub fn score(&self, x: &[f32]) -> f64 {
        let m = self.margin(x);
        match self.kind {
            LossKind::Hinge => m,
            LossKind::Logistic => 1.0 / (1.0 + (-m).exp()),
        }
    }

    pub fn predict(&self, x: &[f32]) -> u8 {
        (self.score(x) > self.threshold) as u8
    }
}

/// How a model was trained, saved with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingInfo {
    pub sgd: SgdParams,
    pub intercept: bool,
    pub standardize: bool,
    pub class_weighting: bool,
    pub seed: u64,
    pub split: f64,
    pub nb_train: u64,
    pub nb_test: u64,
    pub test_accuracy: f64,
    pub iterations_run: u32,
    pub engine: String,
}

/// The JSON file of a saved model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedModel {
    pub format: String,
    /// Label 1.
    pub positive_class: String,
    /// Label 0: a class, or `All` for every other class.
    pub negative_class: String,
    /// Every breed the negative label covers.
    pub negative_classes: Vec<String>,
    pub model: LinearModel,
    pub feature_dim: usize,
    pub extractor: Extractor,
    pub training: TrainingInfo,
}

pub const MODEL_FORMAT: &str = "paws-linear-model/1";

impl SavedModel {
    /// Writes the JSON atomically (temporary file, then rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(self).expect("a model serialises");
        crate::atomic::write_atomic(path, &json)
    }

    pub fn load(path: &Path) -> Result<SavedModel> {
        let bytes = std::fs::read(path).map_err(|e| PawsError::io(path, e))?;
        let m: SavedModel =
            serde_json::from_slice(&bytes).map_err(|e| PawsError::MalformedJson {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        if m.format != MODEL_FORMAT {
            return Err(PawsError::MalformedJson {
                path: path.to_path_buf(),
                message: format!("format '{}', expected '{MODEL_FORMAT}'", m.format),
            });
        }
        if m.model.weights.len() != m.feature_dim || m.extractor.dim != m.feature_dim {
            return Err(PawsError::WrongDimension {
                path: path.to_path_buf(),
                expected: m.feature_dim,
                found: m.model.weights.len(),
            });
        }
        Ok(m)
    }
}
