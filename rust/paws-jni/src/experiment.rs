//! The breed experiment on Spark (`dev.paws.spark.PetBreedExperiment`), experiment side.
//!
//! Everything that decides what the experiment is and what it reports comes from the
//! code `paws experiment` runs: the arguments (paws-cli's own clap definitions, compiled
//! in here), the comparisons and the seeded splits (`paws_core::experiment::{comparisons,
//! plan}`), each model's table row and saved model (`result_row`, `saved_model`), and the
//! tables, plot and model files (paws-report). The JVM only loads the data, caches it,
//! schedules the training passes and copies the output folder to its Hadoop path.
//!
//! A [`Session`] lives behind a handle: created from the arguments, given the dataset's
//! row index (image names and breeds in row order: no features), asked for each model's
//! rows, told each model's result, and finally asked to write the report.

use crate::guard::{invalid, Error, Result};
use crate::handles::Handles;
use paws_core::dataset::Extractor;
use paws_core::eval::Confusion;
use paws_core::experiment::{self, Comparison, ExperimentConfig, ModelTask, Outcome};
use paws_core::gradient::LossKind;
use paws_core::model::{LinearModel, SavedModel};
use paws_core::results::ResultRow;
use paws_core::sgd::{Sgd, Trained};
use paws_core::standardize::{FeatureMap, Scaling};
use paws_core::{legacy, Dataset, PawsError};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// paws-cli's argument definitions, compiled from its source file so that
/// `PetBreedExperiment` takes exactly the arguments (names, defaults, checks, help) of
/// `paws experiment`.
#[allow(dead_code)]
#[path = "../../paws-cli/src/args.rs"]
mod cli_args;

use cli_args::{Cli, Command, ExperimentArgs};

/// The engine name in the table and the saved models.
pub const ENGINE: &str = "paws-spark";
/// The in-process engine's name (paws-cli's `ENGINE`).
pub const CLI_ENGINE: &str = "paws-cli";

/// An error in what the user asked for or gave (arguments, classes, files): an
/// `IllegalArgumentException` with the message `paws experiment` prints.
fn user(e: PawsError) -> Error {
    match e {
        PawsError::Io { .. } => Error::Io(e.to_string()),
        e => Error::Invalid(e.to_string()),
    }
}

/// The experiment's arguments as `paws experiment` parses them (`--help` and `--version`
/// come back as `Err(text)` for the caller to print).
pub fn parse(args: &[String]) -> Result<std::result::Result<ExperimentArgs, String>> {
    use clap::Parser;
    let argv = ["paws".to_string(), "experiment".to_string()]
        .into_iter()
        .chain(args.iter().cloned());
    match Cli::try_parse_from(argv) {
        Ok(cli) => match cli.command {
            Command::Experiment(a) => Ok(Ok(a)),
            _ => unreachable!("the subcommand is always experiment"),
        },
        Err(e) => match e.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                Ok(Err(e.render().to_string()))
            }
            _ => invalid(e.render().to_string().trim_end().to_string()),
        },
    }
}

/// The embedded sample's features, as paws-cli's `embedded_features` finds them:
/// relative to the working directory or, from elsewhere, to the source tree this
/// library was built from.
fn embedded_features() -> PathBuf {
    let rel = Path::new("examples/oxford-pets-sample/features.parquet");
    if rel.exists() {
        return std::path::absolute(rel).unwrap_or_else(|_| rel.to_path_buf());
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// The `experiment: N models (...)` line of paws-cli's log.
fn describe(cfg: &ExperimentConfig, args: &ExperimentArgs, n_models: usize) -> String {
    format!(
        "experiment: {} models ({} {}, {} iterations, step {}, regParam {}, scale {:?}, intercept {}, class weighting {})",
        n_models,
        cfg.sgd.loss.name(),
        format!("{:?}", cfg.sgd.updater).to_lowercase(),
        cfg.sgd.iterations,
        cfg.sgd.step_size,
        cfg.sgd.reg_param,
        args.scale,
        cfg.intercept,
        cfg.class_weighting
    )
}

/// The plot's title (paws-cli's).
fn title(cfg: &ExperimentConfig, extractor: &Extractor) -> String {
    format!("paws {} on {}", cfg.sgd.loss.name(), extractor.model)
}

/// The dataset's rows once the JVM has indexed them.
struct Planned {
    /// Image names and breeds; a placeholder feature matrix of one zero per row (the
    /// features stay in Spark's cache).
    data: Dataset,
    dim: usize,
    extractor: Extractor,
    comps: Vec<Comparison>,
    tasks: Vec<ModelTask>,
    rows: Vec<Option<ResultRow>>,
    /// Per comparison: (accuracy, training rows, model), the best so far.
    best: Vec<Option<(f64, u64, SavedModel)>>,
}

/// One experiment run.
pub struct Session {
    args: ExperimentArgs,
    cfg: ExperimentConfig,
    features: PathBuf,
    planned: Option<Planned>,
}

static SESSIONS: Handles<Session> = Handles::new("experiment");

pub fn create(args: &[String]) -> Result<i64> {
    let args = match parse(args)? {
        Ok(a) => a,
        Err(_) => return invalid("--help and --version are not runs: call usage() first"),
    };
    let cfg = args.config().map_err(user)?;
    let features = args.features.clone().unwrap_or_else(embedded_features);
    Ok(SESSIONS.insert(Session {
        args,
        cfg,
        features,
        planned: None,
    }))
}

pub fn free(h: i64) -> bool {
    SESSIONS.remove(h)
}

pub fn live() -> usize {
    SESSIONS.live()
}

pub fn with<R>(h: i64, f: impl FnOnce(&mut Session) -> Result<R>) -> Result<R> {
    SESSIONS.with(h, f)
}

fn loss_code(kind: LossKind) -> i32 {
    match kind {
        LossKind::Hinge => 0,
        LossKind::Logistic => 1,
    }
}

impl Session {
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

    /// The feature dimension given to `set_data`.
    pub fn dim(&self) -> Result<usize> {
        Ok(self.planned()?.dim)
    }

    fn planned(&self) -> Result<&Planned> {
        self.planned
            .as_ref()
            .ok_or_else(|| Error::Invalid("no dataset yet: call setData first".into()))
    }

    fn task(&self, t: i32) -> Result<(&Planned, &ModelTask)> {
        let p = self.planned()?;
        let task = usize::try_from(t)
            .ok()
            .and_then(|t| p.tasks.get(t))
            .ok_or_else(|| {
                Error::Invalid(format!("task {t} out of range (0..{})", p.tasks.len()))
            })?;
        Ok((p, task))
    }

    /// Indexes the dataset: image names and breeds in row order (the order `paws
    /// experiment` reads them), the feature dimension and the extractor. Resolves the
    /// comparisons and plans every model; returns the plan as JSON.
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
        let data = Dataset::new(
            1,
            vec![0.0; n],
            images,
            breeds,
            extractor.clone(),
            source_name,
        )
        .map_err(user)?;
        let comps = experiment::comparisons(&data, &self.cfg).map_err(user)?;
        let tasks = experiment::plan(&data, &self.cfg, &comps);
        let models: Vec<_> = tasks
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let c = &comps[t.comparison];
                json!({
                    "task": i,
                    "comparison": t.comparison,
                    "class1": data.class_name(c.positive),
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
            "classes": data.classes().len(),
            "comparisons": comps.len(),
            "log": describe(&self.cfg, &self.args, tasks.len()),
            "models": models,
        });
        self.planned = Some(Planned {
            rows: vec![None; tasks.len()],
            best: vec![None; comps.len()],
            data,
            dim,
            extractor,
            comps,
            tasks,
        });
        Ok(out.to_string())
    }

    pub fn train_rows(&self, t: i32) -> Result<Vec<i64>> {
        let (_, task) = self.task(t)?;
        Ok(task.train_rows.iter().map(|&r| r as i64).collect())
    }

    pub fn train_labels(&self, t: i32) -> Result<Vec<f64>> {
        Ok(self.task(t)?.1.train_labels.clone())
    }

    pub fn train_weights(&self, t: i32) -> Result<Option<Vec<f64>>> {
        Ok(self.task(t)?.1.train_weights.clone())
    }

    pub fn test_rows(&self, t: i32) -> Result<Vec<i64>> {
        let (_, task) = self.task(t)?;
        Ok(task.test_rows.iter().map(|&r| r as i64).collect())
    }

    pub fn test_labels(&self, t: i32) -> Result<Vec<f64>> {
        let (_, task) = self.task(t)?;
        Ok(task.test_labels.iter().map(|&y| y as f64).collect())
    }

    /// A driver-side SGD state for task `t` (the experiment's parameters, intercept and
    /// scaling), as `experiment::train_and_evaluate` starts it.
    pub fn sgd(&self, t: i32, scaling: Option<Scaling>) -> Result<Sgd> {
        let (p, _) = self.task(t)?;
        if scaling.is_some() != self.cfg.standardize {
            return invalid(if self.cfg.standardize {
                "--scale standard: the model needs its scaling statistics"
            } else {
                "scaling statistics given, but --scale is none"
            });
        }
        let map = FeatureMap {
            dim: p.dim,
            intercept: self.cfg.intercept,
            scaling,
        };
        Ok(Sgd::new(self.cfg.sgd.clone(), map, None)?)
    }

    /// Records task `t`'s trained model and its confusion counts on the test rows;
    /// returns its table row (and the CLI's warning for a degenerate model) as JSON.
    pub fn finish(
        &mut self,
        t: i32,
        sgd: &Sgd,
        confusion: Confusion,
        seconds: f64,
    ) -> Result<String> {
        let cfg = self.cfg.clone();
        let (p, task) = self.task(t)?;
        let comp = &p.comps[task.comparison];
        if confusion.total() != task.test_rows.len() as u64 {
            return invalid(format!(
                "confusion counts {} rows, the task has {} test rows",
                confusion.total(),
                task.test_rows.len()
            ));
        }
        let (weights, intercept) = sgd.feature_map().raw_model(sgd.weights());
        let out = Outcome {
            model: LinearModel {
                kind: cfg.sgd.loss,
                weights,
                intercept,
                threshold: LinearModel::default_threshold(cfg.sgd.loss),
            },
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
        let row = experiment::result_row(&p.data, &cfg, comp, task, &out, ENGINE, seconds);
        let mut saved = experiment::saved_model(&p.data, &cfg, comp, task, &out, ENGINE);
        // The planning dataset holds no features: the real dimension and extractor.
        saved.feature_dim = p.dim;
        saved.extractor = p.extractor.clone();
        let warning = (!row.flag.is_empty()).then(|| {
            format!(
                "{} vs {} split {}: the model {} (accuracy {:.2} % = majority baseline {:.2} %)",
                row.class1, row.class2, row.split, row.flag, row.predict_pct, row.majority_pct
            )
        });
        let key = (out.confusion.accuracy(), task.train_rows.len() as u64);
        let ci = task.comparison;
        let p = self.planned.as_mut().expect("checked by task()");
        let slot = &mut p.best[ci];
        // As experiment::run: the highest accuracy; on a tie, more training rows; on a
        // full tie, the first.
        if slot.as_ref().is_none_or(|(a, n, _)| key > (*a, *n)) {
            *slot = Some((key.0, key.1, saved));
        }
        let done = json!({ "row": row, "warning": warning }).to_string();
        p.rows[t as usize] = Some(row);
        Ok(done)
    }

    /// Writes results.csv/.json/.md, accuracy.png and models/ into `dir` (local), as
    /// `paws experiment` does; every task must be finished. Returns the plain-text
    /// table and the file names written (relative to `dir`) as JSON.
    pub fn write_report(&self, dir: &Path) -> Result<String> {
        let p = self.planned()?;
        let rows: Vec<ResultRow> = p
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                r.clone()
                    .ok_or_else(|| Error::Invalid(format!("task {i} has no result yet")))
            })
            .collect::<Result<_>>()?;
        let best: Vec<SavedModel> = p.best.iter().flatten().map(|(_, _, m)| m.clone()).collect();
        write_report(dir, &rows, &best, &title(&self.cfg, &p.extractor))
    }
}

/// paws-cli's output folder: tables, plot, best models.
fn write_report(
    dir: &Path,
    rows: &[ResultRow],
    best: &[SavedModel],
    title: &str,
) -> Result<String> {
    let io = |what: &Path, e: std::io::Error| Error::Io(format!("{}: {e}", what.display()));
    std::fs::create_dir_all(dir.join("models")).map_err(|e| io(dir, e))?;
    let report = |e: paws_report::ReportError| Error::Io(e.to_string());
    paws_report::write_tables(dir, rows).map_err(report)?;
    paws_report::plot_accuracy(&dir.join("accuracy.png"), rows, title).map_err(report)?;
    let mut files: Vec<String> = [
        paws_report::CSV_FILE,
        paws_report::JSON_FILE,
        paws_report::MARKDOWN_FILE,
        "accuracy.png",
    ]
    .map(String::from)
    .to_vec();
    for m in best {
        let name = format!("models/{}_vs_{}.json", m.positive_class, m.negative_class);
        m.save(&dir.join(&name)).map_err(user)?;
        files.push(name);
    }
    let flagged = rows.iter().filter(|r| !r.flag.is_empty()).count();
    Ok(json!({
        "table": paws_report::to_terminal(rows),
        "flagged": flagged,
        "files": files,
    })
    .to_string())
}

/// Rows handed over from the JVM for [`run_in_process`] (this library has no Parquet
/// reader: Spark reads Parquet).
pub struct GivenRows {
    pub images: Vec<String>,
    pub breeds: Vec<String>,
    pub features: Vec<f32>,
    pub dim: usize,
    pub extractor: String,
}

/// `paws experiment` itself, in process (its engine, `experiment::run`), writing its
/// output folder to `out_dir`: what PetBreedExperimentTest compares the Spark run with.
/// A legacy folder is read here with the CLI's reader; Parquet rows come from the
/// caller. Returns the output as [`Session::write_report`] does.
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
    let out = experiment::run(&data, &cfg, CLI_ENGINE, &|_, _| {}).map_err(user)?;
    write_report(
        out_dir,
        &out.rows,
        &out.best,
        &title(&cfg, data.extractor()),
    )
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
        let breed = paws_core::dataset::breed_from_file_name(name)
            .ok_or_else(|| user(PawsError::BadFileName { path: name.into() }))?;
        breeds.push(breed.to_string());
        images.push(name.strip_suffix(".json").unwrap_or(name).to_string());
    }
    Ok(json!({ "files": names, "images": images, "breeds": breeds }).to_string())
}

/// One legacy file's features (`paws_core::legacy::parse_feature_array`).
pub fn parse_legacy_file(name: &str, bytes: &[u8]) -> Result<Vec<f32>> {
    legacy::parse_feature_array(Path::new(name), bytes).map_err(user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cli_args::default_comparisons;
    use paws_core::experiment::ComparisonSpec;
    use paws_core::sgd::SgdParams;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn arguments_are_the_clis() {
        let a = parse(&s(&["--class", "Bengal", "--vs", "all", "--splits", "0.5"]))
            .unwrap()
            .unwrap();
        let cfg = a.config().unwrap();
        assert_eq!(
            cfg.comparisons,
            vec![ComparisonSpec::VersusAll("Bengal".into())]
        );
        assert_eq!(cfg.splits, vec![0.5]);
        assert_eq!(cfg.sgd, SgdParams::default());
        // Defaults: the README's job.
        let cfg = parse(&[]).unwrap().unwrap().config().unwrap();
        assert_eq!(cfg.comparisons, default_comparisons());
        assert_eq!(cfg.splits.len(), 9);
        // Errors carry clap's or the CLI's message.
        let e = format!("{:?}", parse(&s(&["--model", "tree"])).unwrap_err());
        assert!(e.contains("invalid value 'tree'"), "{e}");
        let a = parse(&s(&["--features", "x.parquet"])).unwrap().unwrap();
        assert!(format!("{:?}", a.config().unwrap_err()).contains("--class is required"));
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
