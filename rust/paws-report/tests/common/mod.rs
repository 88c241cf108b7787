//! Rows shared by the tests.

#![allow(dead_code)]

use paws_core::experiment::results::ResultRow;

pub fn row(class1: &str, class2: &str, split: f64, num_model: u32, predict_pct: f64) -> ResultRow {
    let nb_test = 400 - (400.0 * split) as u64;
    ResultRow {
        class1: class1.to_string(),
        class2: class2.to_string(),
        split,
        iterations: 100,
        num_model,
        predict_pct,
        nb_train: 400 - nb_test,
        nb_test,
        nb_correct: (nb_test as f64 * predict_pct / 100.0).round() as u64,
        precision: 0.912345678,
        recall: 0.8,
        f1: 0.85245,
        majority_pct: 50.5,
        flag: String::new(),
        iterations_run: 100,
        engine: "paws-cli".to_string(),
        seconds: 1.23456,
    }
}

/// Two comparisons × 9 splits; the second one only reaches its baseline and is flagged
/// at two splits.
pub fn realistic_rows() -> Vec<ResultRow> {
    let mut rows = Vec::new();
    let good = [97.2, 98.1, 98.9, 99.0, 99.3, 99.2, 99.6, 100.0, 100.0];
    let weak = [50.3, 61.0, 66.4, 70.2, 72.5, 74.9, 77.7, 80.8, 87.7];
    for (i, (&g, &w)) in good.iter().zip(&weak).enumerate() {
        let split = (i + 1) as f64 / 10.0;
        rows.push(row(
            "american_bulldog",
            "english_cocker_spaniel",
            split,
            i as u32 + 1,
            g,
        ));
        let mut r = row("Ragdoll", "Birman", split, i as u32 + 1, w);
        r.majority_pct = 50.3 + (i % 2) as f64 * 0.4;
        if i == 0 {
            r.flag = "predicts only class 0".to_string();
        }
        rows.push(r);
    }
    rows
}
