//! The model's feature space and the kernel's.
//!
//! MLlib trains on the features as given, optionally with a trailing 1.0 for the
//! intercept. paws can also standardise each feature (`(x - mean) / std`, statistics of
//! the model's own training rows). Rather than materialising a standardised copy of the
//! data per model, the map is folded into the weights the kernel sees:
//!
//! - margin: `w·((x - μ)/σ) + b = (w/σ)·x + (b - (w/σ)·μ)`;
//! - gradient: `Σ c·(x - μ)/σ = (Σ c·x - μ·Σ c)/σ`, and `Σ c` for the intercept.
//!
//! So the kernel always reads raw `f32` rows (shared, cached once, also by Spark), and
//! many models with different statistics can share one pass over the data.

use crate::access::selection;
use crate::data::exact_sum::GradientSum;
use crate::kernels::gradient::KernelWeights;
use serde::{Deserialize, Serialize};

/// Per-feature mean and inverse standard deviation (sample, n-1, as MLlib's
/// `StandardScaler`). A constant feature gets an inverse std of 0: it is ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    pub mean: Vec<f64>,
    pub inv_std: Vec<f64>,
}

impl Scaling {
    /// Statistics of the given rows (ascending) of a row-major matrix, from the
    /// per-chunk exact-sum moments of [`selection::moments`]: the Spark engine sums the
    /// same moments block by block, so both engines get the same bits.
    pub fn fit(features: &[f32], dim: usize, rows: &[u32]) -> Scaling {
        let rows: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
        let moments = |center: Option<&[f64]>| {
            selection::moments(features, dim, 0, &rows, center)
                .expect("rows of the matrix, ascending")
        };
        let mean = selection::mean_of(&moments(None));
        let inv_std = selection::inv_std_of(&moments(Some(&mean)));
        Scaling { mean, inv_std }
    }
}

/// How a model's weight vector relates to raw feature rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureMap {
    pub dim: usize,
    /// MLlib's `setIntercept(true)`: a 1.0 appended as the last feature.
    pub intercept: bool,
    pub scaling: Option<Scaling>,
}

impl FeatureMap {
    /// Length of the weight vector SGD works on.
    pub fn weight_len(&self) -> usize {
        self.dim + self.intercept as usize
    }

    /// The weights the kernel applies to raw rows.
    pub fn kernel_weights(&self, w: &[f64]) -> KernelWeights {
        let mut k = KernelWeights {
            v: Vec::with_capacity(self.dim),
            offset: 0.0,
        };
        self.kernel_weights_into(w, &mut k);
        k
    }

    /// [`FeatureMap::kernel_weights`] written over `out` (its vector reused: a barrier
    /// task refreshes every model's weights each round, and a new vector per model and
    /// round was 64 MB of fresh pages a round for 1,998 models).
    pub fn kernel_weights_into(&self, w: &[f64], out: &mut KernelWeights) {
        assert_eq!(w.len(), self.weight_len(), "weight length");
        let bias = if self.intercept { w[self.dim] } else { 0.0 };
        out.v.clear();
        match &self.scaling {
            None => {
                out.v.extend_from_slice(&w[..self.dim]);
                out.offset = bias;
            }
            Some(s) => {
                out.v
                    .extend(w[..self.dim].iter().zip(&s.inv_std).map(|(a, b)| a * b));
                let shift: f64 = out.v.iter().zip(&s.mean).map(|(a, b)| a * b).sum();
                out.offset = bias - shift;
            }
        }
    }

    /// The mean gradient in model space from the kernel's raw sums over `n` rows (`Σ c·x`
    /// then `Σ c`): `((Σ c·x)_j - mean_j · Σ c) · invStd_j / n` with scaling,
    /// `(Σ c·x)_j / n` without, then `Σ c / n` for the intercept. One pass over the sum
    /// (it was three vectors: the sum's values, the model gradient, the mean); the same
    /// operations in the same order, so the same bits.
    pub fn mean_model_gradient(&self, raw: &GradientSum, n: f64) -> Vec<f64> {
        assert_eq!(raw.dim(), self.dim + 1, "raw gradient length");
        let coef_sum = raw.value(self.dim);
        let mut g = Vec::with_capacity(self.weight_len());
        match &self.scaling {
            None => g.extend((0..self.dim).map(|j| raw.value(j) / n)),
            Some(s) => g.extend(
                (0..self.dim).map(|j| (raw.value(j) - s.mean[j] * coef_sum) * s.inv_std[j] / n),
            ),
        }
        if self.intercept {
            g.push(coef_sum / n);
        }
        g
    }

    /// Weights and intercept that apply to raw features (what a saved model holds).
    pub fn raw_model(&self, w: &[f64]) -> (Vec<f64>, f64) {
        let k = self.kernel_weights(w);
        (k.v, k.offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::gradient::dot;

    #[test]
    fn folded_weights_give_the_standardised_margin() {
        let x = [2.0f32, 10.0, 7.0, 1.0];
        let s = Scaling::fit(&x, 2, &[0, 1]);
        // Column 0: 2, 7 -> mean 4.5, sd = sqrt(12.5); column 1: 10, 1 -> mean 5.5.
        assert!((s.mean[0] - 4.5).abs() < 1e-15);
        assert!((s.inv_std[0] - 1.0 / 12.5f64.sqrt()).abs() < 1e-15);
        let map = FeatureMap {
            dim: 2,
            intercept: true,
            scaling: Some(s.clone()),
        };
        let w = [0.3, -0.7, 0.2];
        let k = map.kernel_weights(&w);
        let row = &x[2..4];
        let expect = 0.3 * (7.0 - 4.5) * s.inv_std[0] - 0.7 * (1.0 - 5.5) * s.inv_std[1] + 0.2;
        assert!((dot(row, &k.v) + k.offset - expect).abs() < 1e-12);
    }

    #[test]
    fn mean_model_gradient_centres_and_scales() {
        let map = FeatureMap {
            dim: 1,
            intercept: true,
            scaling: Some(Scaling {
                mean: vec![2.0],
                inv_std: vec![0.5],
            }),
        };
        // Σc·x = 6, Σc = 2 over 2 rows -> (6 - 2·2)·0.5 / 2 = 0.5, intercept 2 / 2 = 1.
        let mut raw = GradientSum::zeros(2);
        raw.add_chunk(&[6.0, 2.0], 0.0, 2);
        assert_eq!(map.mean_model_gradient(&raw, 2.0), vec![0.5, 1.0]);
        let plain = FeatureMap {
            dim: 1,
            intercept: false,
            scaling: None,
        };
        assert_eq!(plain.mean_model_gradient(&raw, 2.0), vec![3.0]);
    }

    #[test]
    fn constant_feature_is_ignored() {
        let s = Scaling::fit(&[3.0, 3.0, 3.0], 1, &[0, 1, 2]);
        assert_eq!(s.inv_std, vec![0.0]);
    }
}
