//! Evaluation: the confusion counts of a model on labelled rows, and the metrics the
//! table reports, including the accuracy of always answering the majority class.

use crate::access::blocks::{check_labels, RowBlock};
use crate::access::selection::{block_at, Selection};
use crate::data::error::{PawsError, Result};
use crate::model::linear::LinearModel;
use rayon::prelude::*;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Confusion {
    pub tp: u64,
    pub fp: u64,
    pub tn: u64,
    pub fn_: u64,
}

impl Confusion {
    pub fn add(&mut self, label: u8, predicted: u8) {
        match (label, predicted) {
            (1, 1) => self.tp += 1,
            (0, 1) => self.fp += 1,
            (0, 0) => self.tn += 1,
            _ => self.fn_ += 1,
        }
    }
    pub fn merge(mut self, o: Confusion) -> Confusion {
        self.tp += o.tp;
        self.fp += o.fp;
        self.tn += o.tn;
        self.fn_ += o.fn_;
        self
    }
    pub fn total(&self) -> u64 {
        self.tp + self.fp + self.tn + self.fn_
    }
    pub fn correct(&self) -> u64 {
        self.tp + self.tn
    }
    fn ratio(a: u64, b: u64) -> f64 {
        if b == 0 {
            0.0
        } else {
            a as f64 / b as f64
        }
    }
    pub fn accuracy(&self) -> f64 {
        Self::ratio(self.correct(), self.total())
    }
    /// Of the rows predicted positive, the share that are (0 when none is predicted).
    pub fn precision(&self) -> f64 {
        Self::ratio(self.tp, self.tp + self.fp)
    }
    /// Of the positive rows, the share found.
    pub fn recall(&self) -> f64 {
        Self::ratio(self.tp, self.tp + self.fn_)
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
    /// Accuracy of always answering the larger class of these rows.
    pub fn majority_accuracy(&self) -> f64 {
        let pos = self.tp + self.fn_;
        Self::ratio(pos.max(self.total() - pos), self.total())
    }
    /// Why the model is no classifier, or `None`: it answers one class for every row.
    pub fn degenerate(&self) -> Option<String> {
        let predicted_pos = self.tp + self.fp;
        if self.total() == 0 {
            None
        } else if predicted_pos == 0 {
            Some("predicts only class 0".into())
        } else if predicted_pos == self.total() {
            Some("predicts only class 1".into())
        } else {
            None
        }
    }
}

/// Confusion counts of `model` on dataset rows with labels 0/1.
pub fn evaluate(
    model: &LinearModel,
    features: &[f32],
    dim: usize,
    rows: &[u32],
    labels: &[u8],
) -> Confusion {
    rows.par_iter()
        .zip(labels)
        .fold(Confusion::default, |mut c, (&r, &y)| {
            let x = &features[r as usize * dim..(r as usize + 1) * dim];
            c.add(y, model.predict(x));
            c
        })
        .reduce(Confusion::default, Confusion::merge)
}

fn check_model(model: &LinearModel, block: &RowBlock) -> Result<()> {
    if model.weights.len() != block.dim() {
        return Err(PawsError::invalid(format!(
            "model has {} weights, the block dim is {}",
            model.weights.len(),
            block.dim()
        )));
    }
    Ok(())
}

/// `w·x + b` of every row of the block.
pub fn block_margins(model: &LinearModel, block: &RowBlock) -> Result<Vec<f64>> {
    check_model(model, block)?;
    Ok((0..block.len())
        .map(|i| model.margin(block.row(i)))
        .collect())
}

/// The score compared with the threshold for every row: the margin (hinge) or the
/// probability (logistic); MLlib's `predict` after `clearThreshold`.
pub fn block_scores(model: &LinearModel, block: &RowBlock) -> Result<Vec<f64>> {
    check_model(model, block)?;
    Ok((0..block.len())
        .map(|i| model.score(block.row(i)))
        .collect())
}

/// The model's prediction (0 or 1) for every row of the block.
pub fn block_predictions(model: &LinearModel, block: &RowBlock) -> Result<Vec<u8>> {
    check_model(model, block)?;
    Ok((0..block.len())
        .map(|i| model.predict(block.row(i)))
        .collect())
}

/// Confusion counts of the model on the block's rows with labels 0/1.
pub fn block_confusion(model: &LinearModel, block: &RowBlock, labels: &[f64]) -> Result<Confusion> {
    check_model(model, block)?;
    check_labels(labels, block.len())?;
    let mut c = Confusion::default();
    for (i, &y) in labels.iter().enumerate() {
        c.add(y as u8, model.predict(block.row(i)));
    }
    Ok(c)
}

/// Confusion counts of `model` on a model's selected rows inside the block `rows`
/// (global rows `first, first + 1, …`); summed over blocks, the counts of
/// [`evaluate`] on the same rows.
pub fn selection_confusion(
    model: &LinearModel,
    rows: &[f32],
    dim: usize,
    first: i64,
    sel: &Selection,
) -> Result<Confusion> {
    let b = block_at(rows, dim, first)?;
    if model.weights.len() != dim {
        return Err(PawsError::invalid(format!(
            "weights has {} values for dim {dim}",
            model.weights.len()
        )));
    }
    let mut c = Confusion::default();
    for i in sel.in_block(&b, first)? {
        let x = b.row((sel.rows[i] - first) as usize);
        c.add(sel.labels[i] as u8, model.predict(x));
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::blocks::RowIndex;
    use crate::kernels::gradient::LossKind;

    #[test]
    fn metrics_from_counts() {
        let c = Confusion {
            tp: 3,
            fp: 1,
            tn: 4,
            fn_: 2,
        };
        assert_eq!(c.accuracy(), 0.7);
        assert_eq!(c.precision(), 0.75);
        assert_eq!(c.recall(), 0.6);
        assert!((c.f1() - 2.0 * 0.75 * 0.6 / 1.35).abs() < 1e-15);
        assert_eq!(c.majority_accuracy(), 0.5);
        assert_eq!(c.degenerate(), None);
    }

    #[test]
    fn a_model_that_never_says_positive_is_flagged() {
        // One breed against all: 3 positives among 100, none predicted.
        let c = Confusion {
            tp: 0,
            fp: 0,
            tn: 97,
            fn_: 3,
        };
        assert_eq!(c.accuracy(), 0.97);
        assert_eq!(c.accuracy(), c.majority_accuracy());
        assert_eq!((c.precision(), c.recall(), c.f1()), (0.0, 0.0, 0.0));
        assert_eq!(c.degenerate().as_deref(), Some("predicts only class 0"));
    }

    #[test]
    fn evaluation_matches_the_model() {
        let x = [1.0f32, 2.0, -1.0, 0.5, 0.0, 0.0];
        let b = RowBlock::new(&x, 2, RowIndex::Consecutive(0)).unwrap();
        let m = LinearModel {
            kind: LossKind::Hinge,
            weights: vec![1.0, 1.0],
            intercept: -0.25,
            threshold: 0.0,
        };
        assert_eq!(block_margins(&m, &b).unwrap(), vec![2.75, -0.75, -0.25]);
        assert_eq!(block_predictions(&m, &b).unwrap(), vec![1, 0, 0]);
        let c = block_confusion(&m, &b, &[1.0, 1.0, 0.0]).unwrap();
        assert_eq!((c.tp, c.fp, c.tn, c.fn_), (1, 0, 1, 1));
    }

    #[test]
    fn selection_confusion_by_blocks_equals_evaluate() {
        let (n, dim) = (600, 3);
        let x: Vec<f32> = (0..n * dim)
            .map(|i| (((i * 7919) % 1000) as f32 - 500.0) / 250.0)
            .collect();
        let rows: Vec<u32> = (0..n as u32).filter(|r| r % 5 < 2).collect();
        let sel_rows: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
        let labels: Vec<f64> = rows.iter().map(|r| (r % 2) as f64).collect();
        let model = LinearModel {
            kind: LossKind::Hinge,
            weights: vec![0.5, -0.25, 1.0],
            intercept: 0.1,
            threshold: 0.0,
        };
        let sel = Selection {
            rows: &sel_rows,
            labels: &labels,
            weights: None,
        };
        let mut c = Confusion::default();
        for start in (0..n).step_by(256) {
            let end = (start + 256).min(n);
            let part =
                selection_confusion(&model, &x[start * dim..end * dim], dim, start as i64, &sel);
            c = c.merge(part.unwrap());
        }
        let labels_u8: Vec<u8> = labels.iter().map(|&y| y as u8).collect();
        assert_eq!(c, evaluate(&model, &x, dim, &rows, &labels_u8));
    }
}
