//! The breed experiment on Spark (`dev.paws.spark.PetBreedExperiment`): a handle on
//! paws-core's experiment [`Session`], the same one `paws experiment` drives.
//!
//! The arguments are paws-args' (those of `paws experiment`), the plan, the table rows,
//! the best models and the log lines come from the session, and the output folder is
//! written by paws-report. The JVM only loads the data, caches it, schedules the
//! training passes and copies the output folder to its Hadoop path.
//!
//! A session is created from the arguments, given the dataset's row index (image names
//! and breeds in row order: no features), asked for each model's rows, told each
//! model's result, and finally asked to write the report.

use crate::guard::{invalid, user, Error, Result};
use crate::handles::Handles;
use crate::loss_code;
use paws_args::{parse_experiment, ExperimentArgs};
use paws_core::data::dataset::{breed_from_file_name, Extractor};
use paws_core::data::legacy;
use paws_core::experiment::{ExperimentConfig, ModelTask, Session, SPARK_ENGINE};
use paws_core::model::eval::Confusion;
use paws_core::model::linear::LinearModel;
use paws_core::optimiser::sgd::Sgd;
use paws_core::optimiser::standardize::Scaling;
use paws_core::{Dataset, PawsError};
use paws_report::Report;
use serde_json::json;
use std::path::{Path, PathBuf};

fn report_error(e: paws_report::ReportError) -> Error {
    Error::Io(e.to_string())
}

/// The experiment's arguments (`--help` and `--version` come back as `Err(text)`).
fn parse(args: &[String]) -> Result<std::result::Result<ExperimentArgs, String>> {
    parse_experiment(args).map_err(Error::Invalid)
}

/// The embedded sample's features, as paws-cli finds them.
fn embedded_features() -> PathBuf {
    crate::repo_file("examples/oxford-pets-sample/features.parquet")
}

/// One experiment run behind a handle.
pub struct Run {
    args: ExperimentArgs,
    cfg: ExperimentConfig,
    features: PathBuf,
    session: Option<Session>,
}

static RUNS: Handles<Run> = Handles::new("experiment");

pub fn create(args: &[String]) -> Result<i64> {
    let args = match parse(args)? {
        Ok(a) => a,
        Err(_) => return invalid("--help and --version are not runs: call usage() first"),
    };
    let cfg = args.config().map_err(user)?;
    let features = args.features.clone().unwrap_or_else(embedded_features);
    Ok(RUNS.insert(Run {
        args,
        cfg,
        features,
        session: None,
    }))
}

pub fn free(h: i64) -> bool {
    RUNS.remove(h)
}

#[cfg(feature = "test-hooks")]
pub fn live() -> usize {
    RUNS.live()
}

pub fn with<R>(h: i64, f: impl FnOnce(&mut Run) -> Result<R>) -> Result<R> {
    RUNS.with(h, f)
}

impl Run {
    /// What the JVM needs to run: where the data is and how to train, as JSON.
    pub fn info(&self) -> String {
        let a = &self.args;
        json!({
            "features": self.features.to_string_lossy(),
            "default_features": a.features.is_none(),
            "output": a.output.to_string_lossy(),
            "extractor": a.extractor,
            "loss": loss_code(self.cfg.sgd.loss),
            "loss_name": self.cfg.sgd.loss.name(),
            "iterations": self.cfg.sgd.iterations,
            "mini_batch_fraction": self.cfg.sgd.mini_batch_fraction,
            "standardize": self.cfg.standardize,
            "intercept": self.cfg.intercept,
            "class_weighting": self.cfg.class_weighting,
            "threshold": LinearModel::default_threshold(self.cfg.sgd.loss),
            "splits": self.cfg.splits,
        })
        .to_string()
    }

    fn session(&self) -> Result<&Session> {
        self.session
            .as_ref()
            .ok_or_else(|| Error::Invalid("no dataset yet: call setData first".into()))
    }

    /// Task `t` (a Java int), or an error naming the valid range.
    fn task(&self, t: i32) -> Result<&ModelTask> {
        let session = self.session()?;
        match usize::try_from(t) {
            Ok(t) => Ok(session.task(t)?),
            Err(_) => invalid(format!(
                "task {t} out of range (0..{})",
                session.tasks().len()
            )),
        }
    }

    /// The feature dimension given to `set_data`.
    pub fn dim(&self) -> Result<usize> {
        Ok(self.session()?.dim())
    }

    /// Indexes the dataset: image names and breeds in row order (the order `paws
    /// experiment` reads them), the feature dimension and the extractor. Plans every
    /// model; returns the plan and the run's log line as JSON.
    pub fn set_data(
        &mut self,
        images: Vec<String>,
        breeds: Vec<String>,
        dim: usize,
        extractor_model: String,
        source_name: String,
    ) -> Result<String> {
        if dim == 0 {
            return invalid(format!("{source_name}: feature dimension is 0"));
        }
        let n = images.len();
        let extractor = Extractor {
            model: extractor_model,
            dim,
        };
        // One placeholder value per row: planning reads labels and names only.
        let index = Dataset::new(
            1,
            vec![0.0; n],
            images,
            breeds,
            extractor.clone(),
            source_name,
        )
        .map_err(user)?;
        let session =
            Session::new(&index, dim, extractor, self.cfg.clone(), SPARK_ENGINE).map_err(user)?;
        let models: Vec<_> = session
            .tasks()
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let c = &session.comparisons()[t.comparison];
                json!({
                    "task": i,
                    "comparison": t.comparison,
                    "class1": session.class_name(c.positive),
                    "class2": c.negative_name,
                    "split": t.split,
                    "num_model": t.num_model,
                    "nb_train": t.train_rows.len(),
                    "nb_test": t.test_rows.len(),
                })
            })
            .collect();
        let out = json!({
            "rows": n,
            "classes": index.classes().len(),
            "comparisons": session.comparisons().len(),
            "log": session.describe(),
            "models": models,
        });
        self.session = Some(session);
        Ok(out.to_string())
    }

    pub fn train_rows(&self, t: i32) -> Result<Vec<i64>> {
        let task = self.task(t)?;
        Ok(task.train_rows.iter().map(|&r| r as i64).collect())
    }

    pub fn train_labels(&self, t: i32) -> Result<Vec<f64>> {
        Ok(self.task(t)?.train_labels.clone())
    }

    pub fn train_weights(&self, t: i32) -> Result<Option<Vec<f64>>> {
        Ok(self.task(t)?.train_weights.clone())
    }

    pub fn test_rows(&self, t: i32) -> Result<Vec<i64>> {
        let task = self.task(t)?;
        Ok(task.test_rows.iter().map(|&r| r as i64).collect())
    }

    pub fn test_labels(&self, t: i32) -> Result<Vec<f64>> {
        let task = self.task(t)?;
        Ok(task.test_labels.iter().map(|&y| y as f64).collect())
    }

    /// A driver-side SGD state for task `t` (the experiment's parameters, intercept and
    /// the scaling statistics of its training rows).
    pub fn sgd(&self, t: i32, scaling: Option<Scaling>) -> Result<Sgd> {
        self.task(t)?;
        Ok(self.session()?.sgd(scaling)?)
    }

    /// Records task `t`'s trained model and its confusion counts on the test rows;
    /// returns its table row (and the warning for a degenerate model) as JSON.
    pub fn finish(
        &mut self,
        t: i32,
        sgd: &Sgd,
        confusion: Confusion,
        seconds: f64,
    ) -> Result<String> {
        self.task(t)?;
        let t = t as usize;
        let session = self.session.as_mut().expect("checked by task()");
        let recorded = session.record_sgd(t, sgd, confusion, seconds)?;
        Ok(json!({ "row": recorded.row, "warning": recorded.warning }).to_string())
    }

    /// Writes results.csv/.json/.md, accuracy.png and models/ into `dir` (local), as
    /// `paws experiment` does; every task must be finished. Returns the report as JSON.
    pub fn write_report(&self, dir: &Path) -> Result<String> {
        let session = self.session()?;
        let (rows, best) = session.results()?;
        let report =
            paws_report::write_report(dir, &rows, &best, &session.title()).map_err(report_error)?;
        Ok(report_json(&report))
    }
}

/// The report as the JVM reads it: the plain-text table, the flagged count and its
/// note, and the files written (relative to the output folder).
fn report_json(report: &Report) -> String {
    json!({
        "table": report.table,
        "flagged": report.flagged,
        "note": report.flagged_note(),
        "files": report.files,
    })
    .to_string()
}

#[cfg(feature = "test-hooks")]
/// Rows handed over from the JVM for [`run_in_process`] (this library has no Parquet
/// reader: Spark reads Parquet).
pub struct GivenRows {
    pub images: Vec<String>,
    pub breeds: Vec<String>,
    pub features: Vec<f32>,
    pub dim: usize,
    pub extractor: String,
}

#[cfg(feature = "test-hooks")]
/// `paws experiment` itself, in process (`experiment::run`), writing its output folder
/// to `out_dir`: what PetBreedExperimentTest compares the Spark run with. A legacy
/// folder is read here with the CLI's reader; Parquet rows come from the caller.
/// Returns the report as [`Run::write_report`] does.
pub fn run_in_process(args: &[String], out_dir: &Path, given: Option<GivenRows>) -> Result<String> {
    let args = match parse(args)? {
        Ok(a) => a,
        Err(_) => return invalid("--help and --version are not runs"),
    };
    let cfg = args.config().map_err(user)?;
    let path = args.features.clone().unwrap_or_else(embedded_features);
    let data = match given {
        Some(g) => Dataset::new(
            g.dim,
            g.features,
            g.images,
            g.breeds,
            Extractor {
                model: g.extractor,
                dim: g.dim,
            },
            path.display().to_string(),
        ),
        None if path.is_dir() => legacy::read_folder(&path, &args.extractor),
        None => {
            return invalid(format!(
                "{}: not a legacy folder; pass Parquet rows from the JVM",
                path.display()
            ))
        }
    }
    .map_err(user)?;
    let out =
        paws_core::experiment::run(&data, &cfg, paws_core::experiment::CLI_ENGINE, &|_, _| {})
            .map_err(user)?;
    let title = paws_core::experiment::title(&cfg, data.extractor());
    let report =
        paws_report::write_report(out_dir, &out.rows, &out.best, &title).map_err(report_error)?;
    Ok(report_json(&report))
}

/// `paws experiment --help`, or the version, when `args` ask for it; `None` otherwise.
pub fn usage(args: &[String]) -> Result<Option<String>> {
    Ok(match parse(args) {
        Ok(Err(text)) => Some(text),
        _ => None,
    })
}

/// For a legacy folder: the file names (`<breed>_<n>.jpg.json`, no directory) sorted as
/// `paws experiment` sorts them, with each one's image name and breed, as JSON.
pub fn legacy_index(mut names: Vec<String>) -> Result<String> {
    if names.is_empty() {
        return invalid("no feature files (expected <breed>_<n>.jpg.json)");
    }
    // legacy::read_folder sorts the paths of one folder: by file name, bytewise.
    names.sort();
    let mut images = Vec::with_capacity(names.len());
    let mut breeds = Vec::with_capacity(names.len());
    for name in &names {
        let breed = breed_from_file_name(name)
            .ok_or_else(|| user(PawsError::BadFileName { path: name.into() }))?;
        breeds.push(breed.to_string());
        images.push(name.strip_suffix(".json").unwrap_or(name).to_string());
    }
    Ok(json!({ "files": names, "images": images, "breeds": breeds }).to_string())
}

/// One legacy file's features (`paws_core::data::legacy::parse_feature_array`).
pub fn parse_legacy_file(name: &str, bytes: &[u8]) -> Result<Vec<f32>> {
    legacy::parse_feature_array(Path::new(name), bytes).map_err(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn arguments_are_the_clis() {
        let e = format!("{:?}", parse(&s(&["--model", "tree"])).unwrap_err());
        assert!(e.contains("invalid value 'tree'"), "{e}");
        assert!(usage(&s(&["--help"]))
            .unwrap()
            .unwrap()
            .contains("--mini-batch-fraction"));
        assert!(usage(&s(&["--class", "x"])).unwrap().is_none());
    }

    #[test]
    fn legacy_names_sort_and_name_their_breed() {
        let j: serde_json::Value = serde_json::from_str(
            &legacy_index(s(&["b_2.jpg.json", "Bengal_10.jpg.json", "b_10.jpg.json"])).unwrap(),
        )
        .unwrap();
        assert_eq!(
            j["files"],
            json!(["Bengal_10.jpg.json", "b_10.jpg.json", "b_2.jpg.json"])
        );
        assert_eq!(j["breeds"], json!(["Bengal", "b", "b"]));
        assert_eq!(j["images"][0], "Bengal_10.jpg");
        assert!(legacy_index(s(&["notes.json"])).is_err());
    }
}
