//! Training and evaluating planned models in process: one at a time, or many per pass
//! over the data with the same weights bit for bit.

use super::plan::{ExperimentConfig, ModelTask};
use crate::access::source::InMemorySource;
use crate::data::dataset::Dataset;
use crate::data::error::Result;
use crate::model::eval::{evaluate, Confusion};
use crate::model::linear::LinearModel;
use crate::optimiser::batch::{self, BatchModel};
use crate::optimiser::sgd::{train, Trained};
use crate::optimiser::standardize::{FeatureMap, Scaling};
use std::time::{Duration, Instant};

/// A trained, evaluated model.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub model: LinearModel,
    pub trained: Trained,
    pub confusion: Confusion,
    pub train_time: Duration,
    pub eval_time: Duration,
}

/// The feature map a task's model trains with (intercept, own scaling statistics).
pub fn feature_map(data: &Dataset, cfg: &ExperimentConfig, task: &ModelTask) -> FeatureMap {
    FeatureMap {
        dim: data.dim(),
        intercept: cfg.intercept,
        scaling: cfg
            .standardize
            .then(|| Scaling::fit(data.features(), data.dim(), &task.train_rows)),
    }
}

/// Trains one model in process and evaluates it on its test rows.
pub fn train_and_evaluate(
    data: &Dataset,
    cfg: &ExperimentConfig,
    task: &ModelTask,
) -> Result<Outcome> {
    let t0 = Instant::now();
    let map = feature_map(data, cfg, task);
    let source = InMemorySource::new(
        cfg.sgd.loss,
        data.features(),
        data.dim(),
        &task.train_rows,
        &task.train_labels,
        task.train_weights.as_deref(),
    );
    let trained = train(&source, cfg.sgd.clone(), map.clone(), None)?;
    Ok(evaluate_trained(
        data,
        cfg,
        task,
        &map,
        trained,
        t0.elapsed(),
    ))
}

/// Models trained together per pass: bounds the per-thread gradient sums a pass holds
/// (`MAX_BATCH × (dim + 1)` 16-byte numbers per worker).
pub const MAX_BATCH: usize = 512;

/// Trains tasks together ([`batch::train_many`]: one pass over the data per iteration
/// for the whole batch; the same weights as [`train_and_evaluate`], bit for bit) and
/// evaluates each. A task's `train_time` is its share of the batch's training time.
pub fn train_and_evaluate_many(
    data: &Dataset,
    cfg: &ExperimentConfig,
    tasks: &[ModelTask],
) -> Result<Vec<Outcome>> {
    let t0 = Instant::now();
    let maps: Vec<FeatureMap> = tasks.iter().map(|t| feature_map(data, cfg, t)).collect();
    let models: Vec<BatchModel> = tasks
        .iter()
        .map(|t| BatchModel {
            rows: &t.train_rows,
            labels: &t.train_labels,
            weights: t.train_weights.as_deref(),
        })
        .collect();
    let trained = batch::train_many(data.features(), data.dim(), &models, &cfg.sgd, maps.clone())?;
    let share = t0.elapsed() / tasks.len().max(1) as u32;
    Ok(tasks
        .iter()
        .zip(maps)
        .zip(trained)
        .map(|((task, map), trained)| evaluate_trained(data, cfg, task, &map, trained, share))
        .collect())
}

/// The model on raw features of SGD weights `w` trained with the feature map `map`.
pub fn linear_model(cfg: &ExperimentConfig, map: &FeatureMap, w: &[f64]) -> LinearModel {
    let (weights, intercept) = map.raw_model(w);
    LinearModel {
        kind: cfg.sgd.loss,
        weights,
        intercept,
        threshold: LinearModel::default_threshold(cfg.sgd.loss),
    }
}

/// The raw-space model of a trained task, evaluated on its test rows.
fn evaluate_trained(
    data: &Dataset,
    cfg: &ExperimentConfig,
    task: &ModelTask,
    map: &FeatureMap,
    trained: Trained,
    train_time: Duration,
) -> Outcome {
    let model = linear_model(cfg, map, &trained.weights);
    let t1 = Instant::now();
    let confusion = evaluate(
        &model,
        data.features(),
        data.dim(),
        &task.test_rows,
        &task.test_labels,
    );
    Outcome {
        model,
        trained,
        confusion,
        train_time,
        eval_time: t1.elapsed(),
    }
}
