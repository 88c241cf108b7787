//! MLlib's updaters (`SimpleUpdater`, `L1Updater`, `SquaredL2Updater`), operation for
//! operation: `compute(weightsOld, gradient, stepSize, iter, regParam)` returns the new
//! weights and the regularisation value.

use serde::{Deserialize, Serialize};

/// The saved model's JSON spells the updaters `simple`, `l1`, `l2` (a published
/// format); the arguments and the JNI contract use [`UpdaterKind::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpdaterKind {
    /// No regularisation.
    #[serde(alias = "none")]
    Simple,
    /// L1 by soft thresholding (proximal step).
    L1,
    /// Squared L2: MLlib's default for SVM and logistic regression.
    L2,
}

impl UpdaterKind {
    /// Every updater, in the order the arguments list them.
    pub const ALL: [UpdaterKind; 3] = [UpdaterKind::L2, UpdaterKind::L1, UpdaterKind::Simple];
    /// Other names accepted for an updater: (alias, [`UpdaterKind::name`]).
    pub const ALIASES: [(&'static str, &'static str); 1] = [("simple", "none")];

    /// The updater's name in the arguments, the log and the JNI contract.
    pub fn name(self) -> &'static str {
        match self {
            UpdaterKind::L2 => "l2",
            UpdaterKind::L1 => "l1",
            UpdaterKind::Simple => "none",
        }
    }
}

/// Updates `weights` in place and returns the regularisation value.
///
/// `iter` starts at 1; the step is `step_size / sqrt(iter)`.
pub fn update(
    kind: UpdaterKind,
    weights: &mut [f64],
    gradient: &[f64],
    step_size: f64,
    iter: u32,
    reg_param: f64,
) -> f64 {
    assert_eq!(weights.len(), gradient.len(), "gradient length");
    let step = step_size / (iter as f64).sqrt();
    match kind {
        UpdaterKind::Simple => {
            for (w, g) in weights.iter_mut().zip(gradient) {
                *w += -step * g;
            }
            0.0
        }
        UpdaterKind::L1 => {
            for (w, g) in weights.iter_mut().zip(gradient) {
                *w += -step * g;
            }
            let shrinkage = reg_param * step;
            for w in weights.iter_mut() {
                *w = w.signum() * (w.abs() - shrinkage).max(0.0);
            }
            weights.iter().map(|w| w.abs()).sum::<f64>() * reg_param
        }
        UpdaterKind::L2 => {
            // w' = w·(1 - step·λ) - step·g, then 0.5·λ·‖w'‖²; the norm's sum is carried
            // along in the same pass (the squares added in order, as a sum of them would).
            let shrink = 1.0 - step * reg_param;
            let mut squares = 0.0;
            for (w, g) in weights.iter_mut().zip(gradient) {
                *w *= shrink;
                *w += -step * g;
                squares += *w * *w;
            }
            let norm = f64::sqrt(squares);
            0.5 * reg_param * norm * norm
        }
    }
}

/// The regularisation value of the initial weights, as `runMiniBatchSGD` computes it
/// before the first iteration (an update with a zero gradient and step 0).
pub fn initial_reg_value(kind: UpdaterKind, weights: &[f64], reg_param: f64) -> f64 {
    let mut w = weights.to_vec();
    let zeros = vec![0.0; w.len()];
    update(kind, &mut w, &zeros, 0.0, 1, reg_param)
}

/// MLlib's convergence test: `‖prev - cur‖ < tol · max(‖cur‖, 1)`.
pub fn converged(prev: &[f64], cur: &[f64], tol: f64) -> bool {
    // Both sums in one pass: each is still added in order (the same bits as a pass for
    // each), but the two chains of additions overlap.
    let (mut diff, mut norm) = (0.0f64, 0.0f64);
    for (a, b) in prev.iter().zip(cur) {
        diff += (a - b) * (a - b);
        norm += b * b;
    }
    diff.sqrt() < tol * norm.sqrt().max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squared_l2_matches_hand_computed_values() {
        // iter 4: step = 1/2; w = [1, -2]·(1 - 0.5·0.1) - 0.5·[0.2, 0.4] = [0.85, -2.1]
        let mut w = vec![1.0, -2.0];
        let reg = update(UpdaterKind::L2, &mut w, &[0.2, 0.4], 1.0, 4, 0.1);
        assert!(
            (w[0] - 0.85).abs() < 1e-15 && (w[1] + 2.1).abs() < 1e-15,
            "{w:?}"
        );
        assert!((reg - 0.5 * 0.1 * (0.85f64 * 0.85 + 2.1 * 2.1)).abs() < 1e-15);
    }

    #[test]
    fn l1_soft_thresholds() {
        // iter 1, step 1: w - g = [0.5, -0.05, 2.0]; shrink by 0.1 -> [0.4, 0, 1.9]
        let mut w = vec![1.0, 0.0, 2.0];
        let reg = update(UpdaterKind::L1, &mut w, &[0.5, 0.05, 0.0], 1.0, 1, 0.1);
        assert!((w[0] - 0.4).abs() < 1e-15 && w[1] == 0.0 && (w[2] - 1.9).abs() < 1e-15);
        assert!((reg - 0.1 * 2.3).abs() < 1e-15);
    }

    #[test]
    fn simple_takes_a_plain_step() {
        let mut w = vec![1.0];
        assert_eq!(
            update(UpdaterKind::Simple, &mut w, &[2.0], 3.0, 9, 5.0),
            0.0
        );
        assert_eq!(w, vec![-1.0]);
    }

    #[test]
    fn initial_reg_value_and_convergence() {
        assert_eq!(
            initial_reg_value(UpdaterKind::L2, &[3.0, 4.0], 0.1),
            0.5 * 0.1 * 25.0
        );
        assert!(converged(&[1.0, 0.0], &[1.0, 0.0005], 0.001));
        assert!(!converged(&[1.0, 0.0], &[1.0, 0.002], 0.001));
        // Below norm 1 the tolerance is absolute.
        assert!(!converged(&[0.0], &[0.0011], 0.001));
    }
}
