//! One row of the accuracy table. The first nine fields are the columns of the
//! published MLlib report (`published-svmwithsgd-results.csv`), in its order and with
//! its names; the rest say how far the accuracy can be trusted and how it was run.

use serde::{Deserialize, Serialize};

/// The published report's columns, in order.
pub const PUBLISHED_COLUMNS: [&str; 9] = [
    "class1",
    "class2",
    "split",
    "iterations",
    "num_model",
    "predict_pct",
    "nb_train",
    "nb_test",
    "nb_correct",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultRow {
    /// The positive class (label 1).
    pub class1: String,
    /// The negative class (label 0), or `All` for one against all others.
    pub class2: String,
    /// Share of each class's rows used for training.
    pub split: f64,
    /// The requested number of SGD iterations (MLlib may stop earlier on convergence).
    pub iterations: u32,
    /// 1-based index of the model within its comparison.
    pub num_model: u32,
    /// Correct test predictions in percent.
    pub predict_pct: f64,
    pub nb_train: u64,
    pub nb_test: u64,
    pub nb_correct: u64,
    /// Precision, recall and F1 of the positive class on the test rows (0 when undefined).
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Accuracy in percent of always answering the test set's majority class.
    pub majority_pct: f64,
    /// Empty, or why the model is not a real classifier ("predicts only class 0").
    pub flag: String,
    /// Iterations actually run before MLlib's convergence test stopped training.
    pub iterations_run: u32,
    /// `paws-cli` (in-process) or `paws-spark`.
    pub engine: String,
    /// Wall seconds to train and evaluate this model.
    pub seconds: f64,
}
