//! The JSON file of a saved model (`models/<a>_vs_<b>.json`): its fields are a
//! published format, read back by `SavedModel::load`.

use crate::data::dataset::Extractor;
use crate::data::error::{PawsError, Result};
use crate::model::linear::LinearModel;
use crate::optimiser::sgd::SgdParams;
use serde::{Deserialize, Serialize};
use std::path::Path;

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
        crate::data::atomic::write_atomic(path, &json)
    }

    pub fn load(path: &Path) -> Result<SavedModel> {
        let bytes = std::fs::read(path).map_err(|e| PawsError::io(path, e))?;
        Self::from_slice(path, &bytes)
    }

    /// A model file's bytes, checked as [`SavedModel::load`] checks them; `path` names
    /// the file in errors.
    pub fn from_slice(path: &Path, bytes: &[u8]) -> Result<SavedModel> {
        let m: SavedModel =
            serde_json::from_slice(bytes).map_err(|e| PawsError::MalformedJson {
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
