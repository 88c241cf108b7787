//! Evaluation: the confusion counts of a model on labelled rows, and the metrics the
//! table reports, including the accuracy of always answering the majority class.

use crate::model::LinearModel;
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
