//! What an experiment is: its configuration, the comparisons it resolves to against a
//! dataset's classes, and one seeded stratified split per (comparison, split).

use super::split::{model_seed, stratified};
use crate::data::dataset::Dataset;
use crate::data::error::{PawsError, Result};
use crate::optimiser::sgd::SgdParams;

/// The name the table uses for "every other class".
pub const ALL: &str = "All";

/// One line of the experiment: a breed against others.
#[derive(Debug, Clone, PartialEq)]
pub enum ComparisonSpec {
    /// One model per listed class (one against one).
    Versus(String, Vec<String>),
    /// One model against the union of all other classes.
    VersusAll(String),
    /// Every pair of the dataset's classes.
    AllPairs,
}

#[derive(Debug, Clone)]
pub struct ExperimentConfig {
    pub comparisons: Vec<ComparisonSpec>,
    pub splits: Vec<f64>,
    pub sgd: SgdParams,
    /// MLlib's `setIntercept` (off by default, as in `SVMWithSGD.train`).
    pub intercept: bool,
    /// Standardise features with each model's training statistics.
    pub standardize: bool,
    /// Weight rows so that both labels weigh the same (off: MLlib parity).
    pub class_weighting: bool,
    pub seed: u64,
}

impl Default for ExperimentConfig {
    fn default() -> Self {
        ExperimentConfig {
            comparisons: Vec::new(),
            splits: (1..=9).map(|k| k as f64 / 10.0).collect(),
            sgd: SgdParams::default(),
            intercept: false,
            standardize: false,
            class_weighting: false,
            seed: 42,
        }
    }
}

/// Most splits one run takes: each is a model per comparison, and a range with a tiny step
/// must not allocate without bound.
pub const MAX_SPLITS: usize = 1000;

/// Parses `start:end:step` (inclusive) or a comma list; every split in (0, 1).
pub fn parse_splits(text: &str) -> Result<Vec<f64>> {
    let bad = |why: &str| PawsError::invalid(format!("--splits '{text}': {why}"));
    let num = |s: &str| {
        s.trim()
            .parse::<f64>()
            .map_err(|_| bad(&format!("'{s}' is not a number")))
    };
    let splits: Vec<f64> = if text.contains(':') {
        let parts: Vec<&str> = text.split(':').collect();
        if parts.len() != 3 {
            return Err(bad("expected start:end:step"));
        }
        let (a, b, step) = (num(parts[0])?, num(parts[1])?, num(parts[2])?);
        if step.is_nan() || step <= 0.0 || b < a {
            return Err(bad("need start <= end and step > 0"));
        }
        // Checked before the count: a range far outside (0, 1) or a tiny step would
        // otherwise ask for billions of splits (found by the splits fuzzer).
        if let Some(s) = [a, b].into_iter().find(|s| !(*s > 0.0 && *s < 1.0)) {
            return Err(bad(&format!("{s} is not strictly between 0 and 1")));
        }
        let count = ((b - a) / step + 1e-9).floor() + 1.0;
        if count > MAX_SPLITS as f64 {
            return Err(bad(&format!("{count} splits; at most {MAX_SPLITS}")));
        }
        let n = count as usize;
        // Round to 1e-9 so that 0.1 + 2·0.1 prints as 0.3.
        (0..n)
            .map(|k| ((a + k as f64 * step) * 1e9).round() / 1e9)
            .collect()
    } else {
        text.split(',').map(num).collect::<Result<_>>()?
    };
    if splits.is_empty() {
        return Err(bad("no split"));
    }
    if let Some(s) = splits.iter().find(|s| !(**s > 0.0 && **s < 1.0)) {
        return Err(bad(&format!("{s} is not strictly between 0 and 1")));
    }
    Ok(splits)
}

/// One comparison: `positive` (label 1) against `negatives` (label 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub positive: u32,
    /// Class indices of label 0.
    pub negatives: Vec<u32>,
    /// `class2` in the table: a class name or [`ALL`].
    pub negative_name: String,
}

/// Resolves the configured comparisons against the dataset's classes.
pub fn comparisons(data: &Dataset, cfg: &ExperimentConfig) -> Result<Vec<Comparison>> {
    let n = data.classes().len() as u32;
    if n < 2 {
        return Err(PawsError::invalid(format!(
            "{} has {} class(es); an experiment needs at least 2",
            data.source_name(),
            n
        )));
    }
    if cfg.comparisons.is_empty() {
        return Err(PawsError::invalid("no comparison to run"));
    }
    let versus = |p: u32, b: u32| Comparison {
        positive: p,
        negatives: vec![b],
        negative_name: data.class_name(b).to_string(),
    };
    let mut out = Vec::new();
    for spec in &cfg.comparisons {
        match spec {
            ComparisonSpec::AllPairs => {
                for a in 0..n {
                    out.extend((a + 1..n).map(|b| versus(a, b)));
                }
            }
            ComparisonSpec::VersusAll(class) => {
                let p = data.class_index(class)?;
                out.push(Comparison {
                    positive: p,
                    negatives: (0..n).filter(|&c| c != p).collect(),
                    negative_name: ALL.to_string(),
                });
            }
            ComparisonSpec::Versus(class, others) => {
                let p = data.class_index(class)?;
                if others.is_empty() {
                    return Err(PawsError::invalid(format!(
                        "'{class}' is compared with no class"
                    )));
                }
                for name in others {
                    let b = data.class_index(name)?;
                    if b == p {
                        return Err(PawsError::invalid(format!(
                            "'{name}' is compared with itself"
                        )));
                    }
                    out.push(versus(p, b));
                }
            }
        }
    }
    Ok(out)
}

/// Checks that every model of the plan has training rows of both labels: each class
/// of a one-against-one comparison and the positive class of any comparison must keep
/// at least one training row at every split (`round(split·n)` of its `n` rows), and so
/// must the union of the other classes of a one-against-all comparison. Otherwise the
/// model could not learn its label and its "best model" would be untrained, so this is
/// an error that names the class and the split.
pub fn check_training_rows(
    data: &Dataset,
    cfg: &ExperimentConfig,
    comps: &[Comparison],
) -> Result<()> {
    let by_class = data.rows_by_class();
    let n_train = |rows: usize, split: f64| ((split * rows as f64).round() as usize).min(rows);
    for comp in comps {
        let positive = data.class_name(comp.positive);
        let mut sides: Vec<(String, Vec<usize>)> = vec![(
            format!("'{positive}'"),
            vec![by_class[comp.positive as usize].len()],
        )];
        if comp.negatives.len() == 1 {
            let c = comp.negatives[0];
            sides.push((
                format!("'{}'", data.class_name(c)),
                vec![by_class[c as usize].len()],
            ));
        } else {
            sides.push((
                format!(
                    "'{}' (the classes other than '{positive}')",
                    comp.negative_name
                ),
                comp.negatives
                    .iter()
                    .map(|&c| by_class[c as usize].len())
                    .collect(),
            ));
        }
        for &split in &cfg.splits {
            for (name, strata) in &sides {
                let rows: usize = strata.iter().sum();
                if strata.iter().map(|&n| n_train(n, split)).sum::<usize>() == 0 {
                    return Err(PawsError::invalid(format!(
                        "{positive} vs {}: class {name} has no training rows at split {split} \
                         ({rows} row(s), round({split} × rows) = 0); use a larger split or more data",
                        comp.negative_name
                    )));
                }
            }
        }
    }
    Ok(())
}

/// One model to train: its split and labels.
#[derive(Debug, Clone)]
pub struct ModelTask {
    pub comparison: usize,
    pub split: f64,
    pub num_model: u32,
    pub seed: u64,
    pub train_rows: Vec<u32>,
    pub train_labels: Vec<f64>,
    /// Per-row weights when class weighting is on.
    pub train_weights: Option<Vec<f64>>,
    pub test_rows: Vec<u32>,
    pub test_labels: Vec<u8>,
}

/// Plans every model: one stratified split per (comparison, split).
pub fn plan(data: &Dataset, cfg: &ExperimentConfig, comps: &[Comparison]) -> Vec<ModelTask> {
    let by_class = data.rows_by_class();
    let mut tasks = Vec::new();
    for (ci, comp) in comps.iter().enumerate() {
        let class1 = data.class_name(comp.positive);
        let strata: Vec<&[u32]> = std::iter::once(comp.positive)
            .chain(comp.negatives.iter().copied())
            .map(|c| by_class[c as usize].as_slice())
            .collect();
        for (k, &split) in cfg.splits.iter().enumerate() {
            let seed = model_seed(cfg.seed, class1, &comp.negative_name, split);
            let s = stratified(&strata, split, seed);
            let label = |r: u32| (data.labels()[r as usize] == comp.positive) as u8;
            let train_labels: Vec<f64> = s.train.iter().map(|&r| label(r) as f64).collect();
            let train_weights = cfg.class_weighting.then(|| balanced_weights(&train_labels));
            tasks.push(ModelTask {
                comparison: ci,
                split,
                num_model: k as u32 + 1,
                seed,
                test_labels: s.test.iter().map(|&r| label(r)).collect(),
                train_rows: s.train,
                train_labels,
                train_weights,
                test_rows: s.test,
            });
        }
    }
    tasks
}

/// scikit-learn's "balanced" weights: `n / (2·n_label)`, so each label's weights sum to
/// n/2 and the mean gradient keeps its scale.
pub(crate) fn balanced_weights(labels: &[f64]) -> Vec<f64> {
    let n = labels.len() as f64;
    let pos = labels.iter().filter(|&&y| y > 0.5).count() as f64;
    let neg = n - pos;
    labels
        .iter()
        .map(|&y| {
            let k = if y > 0.5 { pos } else { neg };
            if k > 0.0 {
                n / (2.0 * k)
            } else {
                1.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_parse_ranges_and_lists() {
        let s = parse_splits("0.1:0.9:0.1").unwrap();
        assert_eq!(s.len(), 9);
        assert_eq!(s[2], 0.3);
        assert_eq!(s[8], 0.9);
        assert_eq!(parse_splits("0.3,0.5").unwrap(), vec![0.3, 0.5]);
        assert!(parse_splits("0:1:0.5")
            .unwrap_err()
            .to_string()
            .contains("strictly between"));
        assert!(parse_splits("0.1:x:0.1")
            .unwrap_err()
            .to_string()
            .contains("'x'"));
        assert!(parse_splits("0.1:0.2").is_err());
    }

    #[test]
    fn a_range_that_would_give_too_many_splits_is_refused_before_allocating() {
        // The splits fuzzer's crash: a range of 1e14 splits.
        let e = parse_splits("01:99999999999999:1").unwrap_err().to_string();
        assert!(e.contains("strictly between 0 and 1"), "{e}");
        let e = parse_splits("0.1:0.9:1e-9").unwrap_err().to_string();
        assert!(e.contains("at most 1000"), "{e}");
        assert_eq!(parse_splits("0.001:0.999:0.001").unwrap().len(), 999);
    }

    #[test]
    fn a_class_without_training_rows_is_an_error_naming_it() {
        use crate::data::dataset::Extractor;
        // pug has 3 rows: round(0.1 × 3) = 0 training rows at split 0.1.
        let labels: Vec<String> = ["Bengal"; 20]
            .into_iter()
            .chain(["pug"; 3])
            .map(String::from)
            .collect();
        let n = labels.len();
        let data = Dataset::new(
            1,
            (0..n).map(|i| i as f32).collect(),
            (0..n).map(|i| format!("{}_{i}.jpg", labels[i])).collect(),
            labels,
            Extractor {
                model: "t".into(),
                dim: 1,
            },
            "t",
        )
        .unwrap();
        let mut cfg = ExperimentConfig {
            comparisons: vec![ComparisonSpec::Versus("Bengal".into(), vec!["pug".into()])],
            splits: vec![0.5, 0.1],
            ..Default::default()
        };
        let comps = comparisons(&data, &cfg).unwrap();
        let e = check_training_rows(&data, &cfg, &comps)
            .unwrap_err()
            .to_string();
        assert!(e.contains("'pug'") && e.contains("split 0.1"), "{e}");
        cfg.splits = vec![0.5, 0.2];
        check_training_rows(&data, &cfg, &comps).unwrap();
    }

    #[test]
    fn balanced_weights_give_each_label_half() {
        let w = balanced_weights(&[1.0, 0.0, 0.0, 0.0]);
        assert_eq!(w, vec![2.0, 4.0 / 6.0, 4.0 / 6.0, 4.0 / 6.0]);
    }
}
