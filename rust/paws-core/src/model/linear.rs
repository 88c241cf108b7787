//! A trained linear model and its prediction.

use crate::kernels::gradient::LossKind;
use serde::{Deserialize, Serialize};

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
        crate::kernels::gradient::dot(x, &self.weights) + self.intercept
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
