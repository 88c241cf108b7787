//! One-vs-rest training of every breed at once.
//!
//! Breed k's model is MLlib's logistic regression of "breed k" against every other
//! breed. All the breeds' models, and the models of several training sets (the
//! held-out evaluation and the final refit, or the k folds of a cross-validation),
//! are trained together by [`batch::train_many`]: one pass over the rows per SGD
//! iteration serves every one of them.
//!
//! Rows are weighted by inverse breed frequency (`n / (C·n_breed)`, scikit-learn's
//! "balanced"): each breed weighs the same in every model, so the 3 breeds with 200
//! photos do not crowd out the 34 with 6, whose models would otherwise learn that
//! "no" is almost always right. The weights sum to `n`, so the mean gradient keeps
//! its scale and the step size means the same with or without them.

use super::model_file::BreedWeights;
use crate::data::dataset::{species_of, Dataset};
use crate::data::error::{PawsError, Result};
use crate::experiment::train::MAX_BATCH;
use crate::kernels::gradient::LossKind;
use crate::optimiser::batch::{self, BatchModel};
use crate::optimiser::sgd::SgdParams;
use crate::optimiser::standardize::{FeatureMap, Scaling};
use crate::optimiser::updater::UpdaterKind;
use serde::{Deserialize, Serialize};

/// How the breed models are trained. Saved in the model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreedConfig {
    /// MLlib's SGD parameters; the loss is logistic, so that a margin is a log-odds
    /// and the softmax over margins is a sensible score.
    pub sgd: SgdParams,
    /// Fit an intercept (each breed has its own prior).
    pub intercept: bool,
    /// Standardise features with the training rows' statistics: the CNN's features
    /// differ in scale by orders of magnitude, and one step size must suit them all.
    pub standardize: bool,
    /// Weight rows by inverse breed frequency.
    pub class_weighting: bool,
    /// Share of every breed held out to evaluate and to fit the temperature.
    pub holdout: f64,
    /// Seed of the held-out split and of the cross-validation folds.
    pub seed: u64,
}

impl Default for BreedConfig {
    fn default() -> Self {
        BreedConfig {
            sgd: SgdParams {
                loss: LossKind::Logistic,
                updater: UpdaterKind::L2,
                step_size: 1.0,
                iterations: 100,
                reg_param: 0.001,
                mini_batch_fraction: 1.0,
                convergence_tol: 0.0,
            },
            intercept: true,
            standardize: true,
            class_weighting: true,
            holdout: 0.2,
            seed: 42,
        }
    }
}

impl BreedConfig {
    pub fn validate(&self) -> Result<()> {
        self.sgd.validate()?;
        if self.sgd.loss != LossKind::Logistic {
            return Err(PawsError::invalid(
                "the breed predictor trains logistic models (its scores are a softmax over log-odds)",
            ));
        }
        Ok(())
    }
}

/// Row weights of `rows` (ascending dataset rows): `n / (C·n_breed)` for a row of a
/// breed with `n_breed` of the `n` rows, over the `C` breeds present in `rows`.
pub fn class_weights(labels: &[u32], rows: &[u32], classes: usize) -> Vec<f64> {
    let mut count = vec![0usize; classes];
    for &r in rows {
        count[labels[r as usize] as usize] += 1;
    }
    let present = count.iter().filter(|&&c| c > 0).count().max(1) as f64;
    let n = rows.len() as f64;
    rows.iter()
        .map(|&r| n / (present * count[labels[r as usize] as usize] as f64))
        .collect()
}

/// Trains one model per breed on each training set of `fits` (ascending dataset rows;
/// every breed must have a row in each), all in the same passes over the data.
/// Returns, per fit, every breed's weights on raw features, rounded to `f32` (the
/// features' precision; it halves the model file), in the dataset's class order.
pub fn train_fits(
    data: &Dataset,
    cfg: &BreedConfig,
    fits: &[Vec<u32>],
) -> Result<Vec<Vec<BreedWeights>>> {
    cfg.validate()?;
    let classes = data.classes().len();
    let labels = data.labels();
    for rows in fits {
        let mut seen = vec![false; classes];
        rows.iter()
            .for_each(|&r| seen[labels[r as usize] as usize] = true);
        if let Some(c) = seen.iter().position(|s| !s) {
            return Err(PawsError::invalid(format!(
                "breed '{}' has no training rows",
                data.class_name(c as u32)
            )));
        }
    }
    // Per fit: the feature map (its own scaling statistics, shared by its breeds) and
    // the row weights; per (fit, breed): the 0/1 labels.
    let maps: Vec<FeatureMap> = fits
        .iter()
        .map(|rows| FeatureMap {
            dim: data.dim(),
            intercept: cfg.intercept,
            scaling: cfg
                .standardize
                .then(|| Scaling::fit(data.features(), data.dim(), rows)),
        })
        .collect();
    let weights: Vec<Option<Vec<f64>>> = fits
        .iter()
        .map(|rows| {
            cfg.class_weighting
                .then(|| class_weights(labels, rows, classes))
        })
        .collect();
    let binary: Vec<Vec<Vec<f64>>> = fits
        .iter()
        .map(|rows| {
            (0..classes)
                .map(|c| {
                    rows.iter()
                        .map(|&r| (labels[r as usize] as usize == c) as u8 as f64)
                        .collect()
                })
                .collect()
        })
        .collect();
    let mut models = Vec::with_capacity(fits.len() * classes);
    let mut model_maps = Vec::with_capacity(fits.len() * classes);
    for (f, rows) in fits.iter().enumerate() {
        for labels in &binary[f] {
            models.push(BatchModel {
                rows,
                labels,
                weights: weights[f].as_deref(),
            });
            model_maps.push(maps[f].clone());
        }
    }
    let mut trained = Vec::with_capacity(models.len());
    for (batch, maps) in models.chunks(MAX_BATCH).zip(model_maps.chunks(MAX_BATCH)) {
        trained.extend(batch::train_many(
            data.features(),
            data.dim(),
            batch,
            &cfg.sgd,
            maps.to_vec(),
        )?);
    }
    Ok(trained
        .chunks(classes)
        .zip(&maps)
        .map(|(fit, map)| {
            fit.iter()
                .enumerate()
                .map(|(c, t)| {
                    let (w, b) = map.raw_model(&t.weights);
                    let name = data.class_name(c as u32).to_string();
                    BreedWeights {
                        species: species_of(&name).to_string(),
                        name,
                        intercept: b as f32,
                        weights: w.iter().map(|&v| v as f32).collect(),
                    }
                })
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_breed_weighs_the_same_and_weights_sum_to_n() {
        let labels = [0, 0, 0, 0, 1, 2, 2];
        let rows: Vec<u32> = (0..7).collect();
        let w = class_weights(&labels, &rows, 3);
        let per = |c: u32| -> f64 {
            rows.iter()
                .filter(|&&r| labels[r as usize] == c)
                .map(|&r| w[r as usize])
                .sum()
        };
        for c in 0..3 {
            assert!((per(c) - 7.0 / 3.0).abs() < 1e-12);
        }
        assert!((w.iter().sum::<f64>() - 7.0).abs() < 1e-12);
    }
}
