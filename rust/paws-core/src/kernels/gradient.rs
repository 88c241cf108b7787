//! MLlib's binary gradients (`HingeGradient`, `LogisticGradient` with two classes) and
//! the chunk kernel that sums them over rows.
//!
//! For every row both losses reduce to a scalar coefficient `c` with gradient `c·x`,
//! so one kernel serves both: compute the margin, the coefficient and the loss, then
//! add `c·x` to the gradient. Labels are 0 or 1, as in MLlib.

use crate::data::chunk::in_mini_batch;
use crate::data::exact_sum::GradientSum;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LossKind {
    /// Linear SVM: `SVMWithSGD` / `HingeGradient`.
    Hinge,
    /// Logistic regression: `LogisticRegressionWithSGD` / `LogisticGradient`.
    Logistic,
}

impl LossKind {
    pub fn name(self) -> &'static str {
        match self {
            LossKind::Hinge => "svm",
            LossKind::Logistic => "logistic",
        }
    }
}

/// MLlib's `MLUtils.log1pExp`: `log(1 + exp(x))` without overflow.
#[inline]
pub fn log1p_exp(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// The gradient coefficient and the loss of one row with margin `w·x` and label 0 or 1.
#[inline]
pub fn coefficient(kind: LossKind, margin: f64, label: f64) -> (f64, f64) {
    match kind {
        LossKind::Hinge => {
            // max(0, 1 - (2y-1)·w·x); the gradient is -(2y-1)·x where that is positive.
            let scaled = 2.0 * label - 1.0;
            if 1.0 > scaled * margin {
                (-scaled, 1.0 - scaled * margin)
            } else {
                (0.0, 0.0)
            }
        }
        LossKind::Logistic => {
            let m = -margin;
            let multiplier = (1.0 / (1.0 + m.exp())) - label;
            let loss = if label > 0.0 {
                log1p_exp(m)
            } else {
                log1p_exp(m) - m
            };
            (multiplier, loss)
        }
    }
}

/// `Σ x[i]·v[i]` in f64, in a fixed order: four interleaved partial sums (which lets
/// the compiler use SIMD) combined as `(s0 + s1) + (s2 + s3)`, then the tail. The
/// result depends only on the inputs, never on the machine or the thread.
#[inline]
pub fn dot(x: &[f32], v: &[f64]) -> f64 {
    debug_assert_eq!(x.len(), v.len());
    let mut s = [0f64; 4];
    let xc = x.chunks_exact(4);
    let vc = v.chunks_exact(4);
    let (xt, vt) = (xc.remainder(), vc.remainder());
    for (a, b) in xc.zip(vc) {
        for k in 0..4 {
            s[k] += a[k] as f64 * b[k];
        }
    }
    let mut total = (s[0] + s[1]) + (s[2] + s[3]);
    for (a, b) in xt.iter().zip(vt) {
        total += *a as f64 * b;
    }
    total
}

/// `g += c·x` in f64.
#[inline]
pub fn axpy(c: f64, x: &[f32], g: &mut [f64]) {
    for (gi, &xi) in g.iter_mut().zip(x) {
        *gi += c * xi as f64;
    }
}

/// Weights as the kernel sees them: the margin of a raw row `x` is `v·x + offset`.
/// Standardisation and the intercept are folded in here (see `optimiser::standardize`),
/// so the kernel always reads raw `f32` rows.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelWeights {
    pub v: Vec<f64>,
    pub offset: f64,
}

/// What one chunk contributes: `Σ c·x` (raw feature space) followed by `Σ c`, the
/// loss sum and the number of rows.
pub struct ChunkPartial<'a> {
    pub grad: &'a mut [f64],
    pub loss: f64,
    pub count: u64,
}

/// Sums the gradient over rows given as `(features, label, weight)`; MLlib's weight is
/// always 1.0. `out.grad` has `dim + 1` entries: the raw gradient `Σ c·x`, then `Σ c`.
pub fn accumulate_rows<'x>(
    kind: LossKind,
    rows: impl IntoIterator<Item = (&'x [f32], f64, f64)>,
    w: &KernelWeights,
    out: &mut ChunkPartial<'_>,
) {
    let dim = w.v.len();
    assert_eq!(out.grad.len(), dim + 1, "gradient length");
    let (grad, coef_sum) = out.grad.split_at_mut(dim);
    // The margins of a few rows at a time (`dot`'s bits, see `row_dots`: their additions
    // overlap instead of waiting on each other), then each row's coefficient and `c·x`
    // in row order while the rows are still in cache.
    let simd = crate::kernels::batch_kernel::Simd::detect();
    let rows: Vec<(&[f32], f64, f64)> = rows.into_iter().collect();
    assert!(rows.iter().all(|(x, _, _)| x.len() == dim), "row length");
    let mut dots = [0.0; MARGIN_ROWS];
    for group in rows.chunks(MARGIN_ROWS) {
        let xs: Vec<&[f32]> = group.iter().map(|r| r.0).collect();
        crate::kernels::batch_kernel::row_dots(simd, &xs, &w.v, &mut dots);
        for (&(x, y, weight), &d) in group.iter().zip(&dots) {
            let margin = d + w.offset;
            let (c, loss) = coefficient(kind, margin, y);
            let (c, loss) = (c * weight, loss * weight);
            if c != 0.0 {
                axpy(c, x, grad);
                coef_sum[0] += c;
            }
            out.loss += loss;
            out.count += 1;
        }
    }
}

/// Rows per group of margins in [`accumulate_rows`] (128 KB of 4096-d rows: in L2).
const MARGIN_ROWS: usize = 8;

/// Adds one chunk's partial to `sum`: the rows `(global row, features, label, weight)`
/// of one chunk, in ascending order, are filtered by iteration `iteration`'s mini-batch,
/// summed in f64 (`buf` is scratch space of `dim + 1` values) and added exactly.
///
/// This is the whole per-chunk contract; `access::source::InMemorySource`
/// and the Spark blocks both go through it.
pub fn add_chunk_gradient<'x>(
    kind: LossKind,
    rows: impl IntoIterator<Item = (u64, &'x [f32], f64, f64)>,
    w: &KernelWeights,
    iteration: u32,
    fraction: f64,
    buf: &mut [f64],
    sum: &mut GradientSum,
) {
    buf.iter_mut().for_each(|v| *v = 0.0);
    let mut part = ChunkPartial {
        grad: buf,
        loss: 0.0,
        count: 0,
    };
    let selected = rows
        .into_iter()
        .filter(|&(r, _, _, _)| in_mini_batch(iteration, r, fraction))
        .map(|(_, x, y, weight)| (x, y, weight));
    accumulate_rows(kind, selected, w, &mut part);
    let (loss, count) = (part.loss, part.count);
    sum.add_chunk(buf, loss, count);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hinge_matches_hand_computed_values() {
        // y=1, margin 0.25: inside the margin, gradient -x, loss 0.75.
        assert_eq!(coefficient(LossKind::Hinge, 0.25, 1.0), (-1.0, 0.75));
        // y=0 (scaled -1), margin 0.25: loss 1 + 0.25, gradient +x.
        assert_eq!(coefficient(LossKind::Hinge, 0.25, 0.0), (1.0, 1.25));
        // Correct side, outside the margin: nothing.
        assert_eq!(coefficient(LossKind::Hinge, 1.5, 1.0), (0.0, 0.0));
        assert_eq!(coefficient(LossKind::Hinge, -1.0, 0.0), (0.0, 0.0));
        // Exactly on the margin: MLlib tests 1.0 > y'·m, so no gradient.
        assert_eq!(coefficient(LossKind::Hinge, 1.0, 1.0), (0.0, 0.0));
    }

    #[test]
    fn logistic_matches_hand_computed_values() {
        // margin 0: sigmoid 0.5; y=1 gives c=-0.5, loss ln 2.
        let (c, l) = coefficient(LossKind::Logistic, 0.0, 1.0);
        assert_eq!(c, -0.5);
        assert!((l - std::f64::consts::LN_2).abs() < 1e-15);
        // margin 2, y=0: c = sigmoid(2) = 0.880797..., loss = ln(1+e^2) = 2.126928...
        let (c, l) = coefficient(LossKind::Logistic, 2.0, 0.0);
        assert!((c - 0.8807970779778823).abs() < 1e-15, "{c}");
        assert!((l - 2.1269280110429727).abs() < 1e-14, "{l}");
        // Huge margins stay finite.
        let (c, l) = coefficient(LossKind::Logistic, -800.0, 1.0);
        assert_eq!(c, -1.0);
        assert!((l - 800.0).abs() < 1e-9);
    }

    #[test]
    fn chunk_kernel_sums_rows_and_skips_unselected() {
        let rows = [1.0f32, 2.0, 3.0, -1.0, 0.5, 0.5];
        let labels = [1.0, 0.0, 1.0];
        let w = KernelWeights {
            v: vec![0.1, 0.2],
            offset: 0.0,
        };
        let mut g = vec![0.0; 3];
        let mut part = ChunkPartial {
            grad: &mut g,
            loss: 0.0,
            count: 0,
        };
        let selected = rows
            .chunks_exact(2)
            .zip(labels)
            .take(2)
            .map(|(x, y)| (x, y, 1.0));
        accumulate_rows(LossKind::Hinge, selected, &w, &mut part);
        // row 0: margin .5, y=1 -> c=-1, loss .5; row 1: margin .1, y=0 -> c=+1, loss 1.1
        assert_eq!(part.count, 2);
        assert!((part.loss - 1.6).abs() < 1e-12);
        assert_eq!(g, vec![-1.0 + 3.0, -2.0 - 1.0, 0.0]);
    }

    #[test]
    fn dot_uses_every_element() {
        let x: Vec<f32> = (0..11).map(|i| i as f32).collect();
        let v = vec![1.0; 11];
        assert_eq!(dot(&x, &v), 55.0);
    }
}
