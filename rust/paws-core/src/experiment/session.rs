//! One experiment run, whichever engine trains its models.
//!
//! A [`Session`] plans every model (comparisons, seeded splits), takes each model's
//! trained weights and test confusion counts, and turns them into the table rows and
//! the best model of each comparison. `paws experiment` drives it through [`run`];
//! Spark's `PetBreedExperiment` drives it through paws-jni, model by model. The rules
//! of the experiment (the best-model rule, the engine names, the log lines) live here
//! only.

use super::plan::{
    check_training_rows, comparisons, plan, Comparison, ExperimentConfig, ModelTask,
};
use super::results::ResultRow;
use super::saved_model::{SavedModel, TrainingInfo, MODEL_FORMAT};
use super::train::{linear_model, train_and_evaluate_many, Outcome, MAX_BATCH};
use crate::data::dataset::{Dataset, Extractor};
use crate::data::error::{PawsError, Result};
use crate::model::eval::Confusion;
use crate::optimiser::sgd::{Sgd, Trained};
use crate::optimiser::standardize::{FeatureMap, Scaling};
use std::time::{Duration, Instant};

/// The engine name of `paws experiment` (in process) in the table and saved models.
pub const CLI_ENGINE: &str = "paws-cli";
/// The engine name of Spark's `PetBreedExperiment`.
pub const SPARK_ENGINE: &str = "paws-spark";

/// Time spent per phase, summed over models.
#[derive(Debug, Clone, Default)]
pub struct PhaseTimes {
    pub split: Duration,
    pub train: Duration,
    pub evaluate: Duration,
}

/// Everything an experiment produces.
#[derive(Debug, Clone)]
pub struct ExperimentOutput {
    pub rows: Vec<ResultRow>,
    /// The best model of each comparison, in comparison order.
    pub best: Vec<SavedModel>,
    pub times: PhaseTimes,
}

/// A model's recorded result: its table row, and a warning when the model is no
/// classifier.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub row: ResultRow,
    pub warning: Option<String>,
}

/// One experiment run.
pub struct Session {
    cfg: ExperimentConfig,
    engine: &'static str,
    class_names: Vec<String>,
    dim: usize,
    extractor: Extractor,
    comps: Vec<Comparison>,
    tasks: Vec<ModelTask>,
    rows: Vec<Option<ResultRow>>,
    /// Per comparison: the best model so far, with its (accuracy, training rows).
    best: Vec<Option<((f64, u64), SavedModel)>>,
    split_time: Duration,
}

impl Session {
    /// Plans every model of `cfg` on `index` (its class names and labels; the features
    /// are not read). The models are trained on features of `dim` values from
    /// `extractor`.
    pub fn new(
        index: &Dataset,
        dim: usize,
        extractor: Extractor,
        cfg: ExperimentConfig,
        engine: &'static str,
    ) -> Result<Session> {
        let t = Instant::now();
        let comps = comparisons(index, &cfg)?;
        check_training_rows(index, &cfg, &comps)?;
        let tasks = plan(index, &cfg, &comps);
        Ok(Session {
            engine,
            class_names: index.classes().to_vec(),
            dim,
            extractor,
            rows: vec![None; tasks.len()],
            best: vec![None; comps.len()],
            comps,
            tasks,
            cfg,
            split_time: t.elapsed(),
        })
    }

    pub fn config(&self) -> &ExperimentConfig {
        &self.cfg
    }

    pub fn comparisons(&self) -> &[Comparison] {
        &self.comps
    }

    pub fn tasks(&self) -> &[ModelTask] {
        &self.tasks
    }

    /// The feature dimension of the models.
    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn class_name(&self, class: u32) -> &str {
        &self.class_names[class as usize]
    }

    /// Task `t`, or an error naming the valid range.
    pub fn task(&self, t: usize) -> Result<&ModelTask> {
        self.tasks.get(t).ok_or_else(|| {
            PawsError::invalid(format!("task {t} out of range (0..{})", self.tasks.len()))
        })
    }

    /// The run's first log line: `experiment: N models (...)`.
    pub fn describe(&self) -> String {
        describe(&self.cfg, self.tasks.len())
    }

    /// The plot's title.
    pub fn title(&self) -> String {
        title(&self.cfg, &self.extractor)
    }

    /// The feature map a model trains with: the intercept, and the scaling statistics
    /// of its training rows when `--scale standard` asks for them.
    pub fn feature_map(&self, scaling: Option<Scaling>) -> Result<FeatureMap> {
        if scaling.is_some() != self.cfg.standardize {
            return Err(PawsError::invalid(if self.cfg.standardize {
                "--scale standard: the model needs its scaling statistics"
            } else {
                "scaling statistics given, but --scale is none"
            }));
        }
        Ok(FeatureMap {
            dim: self.dim(),
            intercept: self.cfg.intercept,
            scaling,
        })
    }

    /// A driver-side SGD state for a model (the experiment's parameters).
    pub fn sgd(&self, scaling: Option<Scaling>) -> Result<Sgd> {
        Sgd::new(self.cfg.sgd.clone(), self.feature_map(scaling)?, None)
    }

    /// Records task `t` from a finished driver-side SGD state and the model's confusion
    /// counts on the task's test rows.
    pub fn record_sgd(
        &mut self,
        t: usize,
        sgd: &Sgd,
        confusion: Confusion,
        seconds: f64,
    ) -> Result<Recorded> {
        let task = self.task(t)?;
        if confusion.total() != task.test_rows.len() as u64 {
            return Err(PawsError::invalid(format!(
                "confusion counts {} rows, the task has {} test rows",
                confusion.total(),
                task.test_rows.len()
            )));
        }
        let out = Outcome {
            model: linear_model(&self.cfg, sgd.feature_map(), sgd.weights()),
            trained: Trained {
                weights: sgd.weights().to_vec(),
                loss_history: sgd.loss_history().to_vec(),
                updates: sgd.updates(),
                converged: sgd.converged(),
            },
            confusion,
            train_time: Duration::from_secs_f64(seconds.max(0.0)),
            eval_time: Duration::ZERO,
        };
        self.record(t, &out, seconds)
    }

    /// Records task `t`'s trained and evaluated model: its table row, and the model
    /// itself if it is its comparison's best so far (the highest test accuracy; on a
    /// tie, more training rows; on a full tie, the first).
    pub fn record(&mut self, t: usize, out: &Outcome, seconds: f64) -> Result<Recorded> {
        let task = self.task(t)?;
        let row = self.result_row(task, out, seconds);
        let key = (out.confusion.accuracy(), task.train_rows.len() as u64);
        let comparison = task.comparison;
        if self.best[comparison]
            .as_ref()
            .is_none_or(|(best, _)| key > *best)
        {
            let saved = self.saved_model(task, out);
            self.best[comparison] = Some((key, saved));
        }
        let warning = (!row.flag.is_empty()).then(|| {
            format!(
                "{} vs {} split {}: the model {} (accuracy {:.2} % = majority baseline {:.2} %)",
                row.class1, row.class2, row.split, row.flag, row.predict_pct, row.majority_pct
            )
        });
        self.rows[t] = Some(row.clone());
        Ok(Recorded { row, warning })
    }

    /// The table rows in task order and the best model of each comparison; every task
    /// must be recorded.
    pub fn results(&self) -> Result<(Vec<ResultRow>, Vec<SavedModel>)> {
        let rows = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                r.clone()
                    .ok_or_else(|| PawsError::invalid(format!("task {i} has no result yet")))
            })
            .collect::<Result<_>>()?;
        let best = self.best.iter().flatten().map(|(_, m)| m.clone()).collect();
        Ok((rows, best))
    }

    fn result_row(&self, task: &ModelTask, out: &Outcome, seconds: f64) -> ResultRow {
        let comp = &self.comps[task.comparison];
        let c = &out.confusion;
        ResultRow {
            class1: self.class_name(comp.positive).to_string(),
            class2: comp.negative_name.clone(),
            split: task.split,
            iterations: self.cfg.sgd.iterations,
            num_model: task.num_model,
            predict_pct: 100.0 * c.accuracy(),
            nb_train: task.train_rows.len() as u64,
            nb_test: c.total(),
            nb_correct: c.correct(),
            precision: c.precision(),
            recall: c.recall(),
            f1: c.f1(),
            majority_pct: 100.0 * c.majority_accuracy(),
            flag: c.degenerate().unwrap_or_default(),
            iterations_run: out.trained.updates,
            engine: self.engine.to_string(),
            seconds,
        }
    }

    fn saved_model(&self, task: &ModelTask, out: &Outcome) -> SavedModel {
        let comp = &self.comps[task.comparison];
        let cfg = &self.cfg;
        SavedModel {
            format: MODEL_FORMAT.to_string(),
            positive_class: self.class_name(comp.positive).to_string(),
            negative_class: comp.negative_name.clone(),
            negative_classes: comp
                .negatives
                .iter()
                .map(|&c| self.class_name(c).to_string())
                .collect(),
            model: out.model.clone(),
            feature_dim: self.dim(),
            extractor: self.extractor.clone(),
            training: TrainingInfo {
                sgd: cfg.sgd.clone(),
                intercept: cfg.intercept,
                standardize: cfg.standardize,
                class_weighting: cfg.class_weighting,
                seed: task.seed,
                split: task.split,
                nb_train: task.train_rows.len() as u64,
                nb_test: out.confusion.total(),
                test_accuracy: out.confusion.accuracy(),
                iterations_run: out.trained.updates,
                engine: self.engine.to_string(),
            },
        }
    }
}

/// The run's first log line: `experiment: N models (...)`.
pub fn describe(cfg: &ExperimentConfig, models: usize) -> String {
    format!(
        "experiment: {} models ({} {}, {} iterations, step {}, regParam {}, scale {}, intercept {}, class weighting {})",
        models,
        cfg.sgd.loss.name(),
        cfg.sgd.updater.name(),
        cfg.sgd.iterations,
        cfg.sgd.step_size,
        cfg.sgd.reg_param,
        if cfg.standardize { "Standard" } else { "None" },
        cfg.intercept,
        cfg.class_weighting
    )
}

/// The accuracy plot's title.
pub fn title(cfg: &ExperimentConfig, extractor: &Extractor) -> String {
    format!("paws {} on {}", cfg.sgd.loss.name(), extractor.model)
}

/// Runs the whole experiment in process. `progress(done, total)` is called after each
/// batch of models.
pub fn run(
    data: &Dataset,
    cfg: &ExperimentConfig,
    engine: &'static str,
    progress: &dyn Fn(usize, usize),
) -> Result<ExperimentOutput> {
    let extractor = data.extractor().clone();
    let mut session = Session::new(data, data.dim(), extractor, cfg.clone(), engine)?;
    log::info!("{}", session.describe());
    let mut times = PhaseTimes {
        split: session.split_time,
        ..Default::default()
    };
    let total = session.tasks().len();
    let mut outcomes = Vec::with_capacity(total);
    for batch in session.tasks().chunks(MAX_BATCH) {
        outcomes.extend(train_and_evaluate_many(data, cfg, batch)?);
        progress(outcomes.len(), total);
    }
    for (t, out) in outcomes.iter().enumerate() {
        times.train += out.train_time;
        times.evaluate += out.eval_time;
        let seconds = (out.train_time + out.eval_time).as_secs_f64();
        if let Some(warning) = session.record(t, out, seconds)?.warning {
            log::warn!("{warning}");
        }
    }
    let (rows, best) = session.results()?;
    Ok(ExperimentOutput { rows, best, times })
}
