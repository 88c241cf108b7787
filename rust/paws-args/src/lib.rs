//! paws-args: the arguments of `paws convert`, `extract`, `experiment`, `train-breeds`
//! and `predict` (names, defaults, checks, help). `paws` parses its command line with them and
//! Spark's `PetBreedExperiment` parses its arguments with [`parse_experiment`], so both
//! engines read the same arguments the same way. Numeric defaults come from
//! [`SgdParams::default`] and [`ExperimentConfig::default`].

use clap::{Parser, Subcommand, ValueEnum};
use paws_core::breeds::BreedConfig;
use paws_core::experiment::{self, ComparisonSpec, ExperimentConfig};
use paws_core::kernels::gradient::LossKind;
use paws_core::optimiser::sgd::SgdParams;
use paws_core::optimiser::updater::UpdaterKind;
use paws_core::PawsError;
use std::path::PathBuf;

/// The exit code convention, shown after `--help` (and in README's CLI reference).
pub const EXIT_CODES: &str = "\
Exit status: 0 on success; 2 for a usage error (an unknown option, a missing or \
unparsable value); 1 for any other error (a value that fails validation, missing or \
invalid data, I/O). Errors print one `paws: error: <message>` on stderr.
Runs are all or nothing: `experiment -o DIR` and `extract -o FILE` publish their output \
only when all of it is written; a failed run leaves an existing DIR or FILE as it was \
and puts its log in DIR.failed.log.";

#[derive(Parser, Debug)]
#[command(
    name = "paws",
    version,
    about = "Pet breed features and MLlib-exact linear models, in process",
    after_help = EXIT_CODES
)]
pub struct Cli {
    /// Debug logging (RUST_LOG overrides).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Convert a legacy folder of <breed>_<n>.jpg.json feature files to Parquet.
    Convert {
        /// Folder of <breed>_<n>.jpg.json files, each a flat JSON array of floats.
        folder: PathBuf,
        /// Output Parquet file (written atomically).
        output: PathBuf,
        /// Extractor id recorded in the Parquet metadata.
        #[arg(long, default_value = "vgg16-fc2")]
        extractor: String,
    },
    /// Extract CNN features from a folder of photos into Parquet.
    #[command(after_help = EXIT_CODES)]
    Extract(ExtractArgs),
    /// Train and evaluate the breed models over a sweep of train splits.
    #[command(after_help = EXIT_CODES)]
    Experiment(ExperimentArgs),
    /// Train one predictor of every breed in the features (one-vs-rest logistic models
    /// with calibrated scores), evaluated on held-out photos.
    #[command(name = "train-breeds", after_help = EXIT_CODES)]
    TrainBreeds(TrainBreedsArgs),
    /// Predict the breed of photos with a model of `paws train-breeds`.
    #[command(after_help = EXIT_CODES)]
    Predict(PredictArgs),
    /// Serve the breed predictor over HTTP: a page for phones and a JSON API.
    #[command(after_help = EXIT_CODES)]
    Serve(ServeArgs),
}

#[derive(clap::Args, Debug)]
pub struct TrainBreedsArgs {
    /// Feature file (.parquet), repeatable: the files are trained on together and must
    /// come from the same extractor [default: the embedded sample and the few-photo set
    /// of the other 34 breeds, examples/oxford-pets-sample and examples/oxford-pets-37-few].
    #[arg(long)]
    pub features: Vec<PathBuf>,
    /// Output model file (JSON, written atomically); the held-out confusion matrix goes
    /// beside it as <MODEL stem>.confusion.csv and .confusion.png.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Also report K-fold cross-validated top-1/top-3 accuracy (stratified per breed;
    /// 6 leaves one photo out at a time for breeds of 6 photos).
    #[arg(long, value_name = "K")]
    pub cross_validate: Option<usize>,
    /// Share of every breed held out to evaluate and fit the temperature (at least one
    /// photo of each breed).
    #[arg(long, default_value_t = BreedConfig::default().holdout, allow_negative_numbers = true)]
    pub holdout: f64,
    /// Number of SGD iterations (MLlib numIterations).
    #[arg(long, default_value_t = BreedConfig::default().sgd.iterations)]
    pub iterations: u32,
    /// Initial step size, decaying as step/sqrt(t) (MLlib stepSize).
    #[arg(long, default_value_t = BreedConfig::default().sgd.step_size, allow_negative_numbers = true)]
    pub step_size: f64,
    /// L2 regularisation parameter (MLlib regParam).
    #[arg(long, default_value_t = BreedConfig::default().sgd.reg_param, allow_negative_numbers = true)]
    pub reg_param: f64,
    /// Seed of the held-out split and of the folds.
    #[arg(long, default_value_t = BreedConfig::default().seed)]
    pub seed: u64,
    /// Train without weighting rows by inverse breed frequency (the big breeds then
    /// crowd out the small ones).
    #[arg(long)]
    pub no_class_weighting: bool,
}

impl TrainBreedsArgs {
    /// The training these arguments ask for, validated.
    pub fn config(&self) -> paws_core::Result<BreedConfig> {
        let d = BreedConfig::default();
        let cfg = BreedConfig {
            sgd: SgdParams {
                iterations: self.iterations,
                step_size: self.step_size,
                reg_param: self.reg_param,
                ..d.sgd
            },
            class_weighting: !self.no_class_weighting,
            holdout: self.holdout,
            seed: self.seed,
            ..d
        };
        cfg.validate().map_err(name_the_option)?;
        if !(cfg.holdout > 0.0 && cfg.holdout < 1.0) {
            return Err(PawsError::invalid(format!(
                "--holdout must be strictly between 0 and 1, got {}",
                cfg.holdout
            )));
        }
        if let Some(k) = self.cross_validate.filter(|&k| k < 2) {
            return Err(PawsError::invalid(format!(
                "--cross-validate needs at least 2 folds, got {k}"
            )));
        }
        Ok(cfg)
    }
}

#[derive(clap::Args, Debug)]
pub struct PredictArgs {
    /// Photos (JPEG, PNG, …; decoded by content).
    #[arg(required = true)]
    pub photos: Vec<PathBuf>,
    /// Breed model of `paws train-breeds` [default: examples/models/breeds-37.json, all
    /// 37 Oxford-IIIT Pet breeds].
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// The CNN (ONNX) to extract features with; it must be the one the breed model was
    /// trained on [default: the EfficientNet-Lite0 model that scripts/fetch-model.sh caches].
    #[arg(long)]
    pub cnn: Option<PathBuf>,
    /// Breeds to show per photo.
    #[arg(long, default_value_t = 3)]
    pub top: usize,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    /// Stop at the first photo that cannot be decoded instead of skipping it.
    #[arg(long)]
    pub strict: bool,
}

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Breed model of `paws train-breeds` [default: examples/models/breeds-37.json].
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// The CNN (ONNX) the breed model was trained on [default: the EfficientNet-Lite0
    /// model that scripts/fetch-model.sh caches].
    #[arg(long)]
    pub cnn: Option<PathBuf>,
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: std::net::SocketAddr,
    /// Largest upload in bytes (larger gets a 413).
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    pub max_upload_bytes: usize,
    /// Most pixels an image may declare (more gets a 413 before decoding).
    #[arg(long, default_value_t = 50_000_000)]
    pub max_pixels: u64,
    /// CNN runs at once [default: the number of cores].
    #[arg(long)]
    pub workers: Option<usize>,
    /// Requests that may wait for a CNN run; more get a 503 with Retry-After
    /// [default: 4 per worker].
    #[arg(long)]
    pub queue: Option<usize>,
    /// Longest a request may take, in seconds (waiting for a worker included).
    #[arg(long, default_value_t = 30.0)]
    pub timeout: f64,
    /// Below this top score the answer says "not sure".
    #[arg(long, default_value_t = 0.5)]
    pub unsure_below: f64,
}

#[derive(clap::Args, Debug)]
pub struct ExtractArgs {
    /// Folder of photos named <breed>_<n>.<ext> (decoded by content, not extension).
    pub images: PathBuf,
    /// Output Parquet file (written atomically).
    #[arg(short, long)]
    pub output: PathBuf,
    /// ONNX model file, a path or s3:// URL [default: the EfficientNet-Lite0 model that scripts/fetch-model.sh caches].
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Name of the model output that holds the features (e.g. fc2 for a VGG16 export).
    #[arg(long, default_value = "features")]
    pub feature_output: String,
    /// Name of the output that holds the ImageNet logits ("none" if the model has none).
    #[arg(long, default_value = "logits")]
    pub logits_output: String,
    /// Model id recorded in the Parquet metadata [default: from the model file].
    #[arg(long)]
    pub model_id: Option<String>,
    /// Square input size of the model, in pixels.
    #[arg(long, default_value_t = 224, allow_negative_numbers = true)]
    pub input_size: u32,
    /// Fail on the first undecodable image instead of skipping it.
    #[arg(long)]
    pub strict: bool,
    /// Inference engine; recorded in the Parquet metadata (paws.extractor.backend).
    #[arg(long, value_enum, default_value_t = ExtractBackend::Tract)]
    pub backend: ExtractBackend,
    /// The libonnxruntime shared library for --backend onnxruntime (1.17 or newer, e.g.
    /// onnxruntime/capi/libonnxruntime.so.1.* of `pip install onnxruntime`) [default:
    /// $ORT_DYLIB_PATH].
    #[arg(long, value_name = "PATH")]
    pub onnxruntime_lib: Option<PathBuf>,
}

/// The engines `paws extract` runs the model with.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExtractBackend {
    /// tract (pure Rust, built in).
    Tract,
    /// onnxruntime, opened at run time from --onnxruntime-lib or $ORT_DYLIB_PATH.
    Onnxruntime,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModelKind {
    /// Linear SVM (SVMWithSGD, hinge loss).
    Svm,
    /// Logistic regression (LogisticRegressionWithSGD).
    Logistic,
}

impl From<LossKind> for ModelKind {
    fn from(loss: LossKind) -> Self {
        match loss {
            LossKind::Hinge => ModelKind::Svm,
            LossKind::Logistic => ModelKind::Logistic,
        }
    }
}

impl From<ModelKind> for LossKind {
    fn from(model: ModelKind) -> Self {
        match model {
            ModelKind::Svm => LossKind::Hinge,
            ModelKind::Logistic => LossKind::Logistic,
        }
    }
}

/// The updater names of [`UpdaterKind::name`], with its aliases.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Updater {
    /// Squared L2 (MLlib's default, SquaredL2Updater).
    #[value(alias = "squared-l2", alias = "squaredl2")]
    L2,
    /// L1 (L1Updater).
    L1,
    /// No regularisation (SimpleUpdater).
    #[value(alias = "simple")]
    None,
}

impl From<UpdaterKind> for Updater {
    fn from(kind: UpdaterKind) -> Self {
        match kind {
            UpdaterKind::L2 => Updater::L2,
            UpdaterKind::L1 => Updater::L1,
            UpdaterKind::Simple => Updater::None,
        }
    }
}

impl From<Updater> for UpdaterKind {
    fn from(updater: Updater) -> Self {
        match updater {
            Updater::L2 => UpdaterKind::L2,
            Updater::L1 => UpdaterKind::L1,
            Updater::None => UpdaterKind::Simple,
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Scale {
    /// Features as extracted, as MLlib trains them.
    None,
    /// (x - mean) / std per feature, statistics of each model's training rows.
    Standard,
}

#[derive(clap::Args, Debug)]
pub struct ExperimentArgs {
    /// Feature file (.parquet) or legacy folder of .jpg.json files
    /// [default: the embedded Oxford-IIIT Pet sample].
    #[arg(long)]
    pub features: Option<PathBuf>,
    /// The positive class (label 1).
    #[arg(long)]
    pub class: Option<String>,
    /// Comma-separated classes to compare with one by one, or "all" for every other class.
    #[arg(long, value_delimiter = ',')]
    pub vs: Vec<String>,
    /// Every pair of classes in the data.
    #[arg(long, conflicts_with_all = ["class", "vs"])]
    pub all_pairs: bool,
    /// Train splits: start:end:step (inclusive) or a comma list; each split is the share
    /// of every class used for training.
    #[arg(long, default_value = "0.1:0.9:0.1", allow_hyphen_values = true)]
    pub splits: String,
    /// Number of SGD iterations (MLlib numIterations).
    #[arg(long, default_value_t = SgdParams::default().iterations, allow_negative_numbers = true)]
    pub iterations: u32,
    /// Model to train (MLlib SVMWithSGD or LogisticRegressionWithSGD).
    #[arg(long, value_enum, default_value_t = SgdParams::default().loss.into())]
    pub model: ModelKind,
    /// Base seed of the per-model splits.
    #[arg(long, default_value_t = ExperimentConfig::default().seed, allow_negative_numbers = true)]
    pub seed: u64,
    /// Initial step size, decaying as step/sqrt(t) (MLlib stepSize).
    #[arg(long, default_value_t = SgdParams::default().step_size, allow_negative_numbers = true)]
    pub step_size: f64,
    /// Regularisation parameter (MLlib regParam).
    #[arg(long, default_value_t = SgdParams::default().reg_param, allow_negative_numbers = true)]
    pub reg_param: f64,
    /// Regularisation (MLlib updater: SquaredL2Updater, L1Updater, SimpleUpdater).
    #[arg(long, value_enum, default_value_t = SgdParams::default().updater.into())]
    pub updater: Updater,
    /// Share of the training rows sampled for each iteration (MLlib miniBatchFraction).
    #[arg(long, default_value_t = SgdParams::default().mini_batch_fraction, allow_negative_numbers = true)]
    pub mini_batch_fraction: f64,
    /// Convergence tolerance; 0 runs every iteration (MLlib convergenceTol).
    #[arg(long, default_value_t = SgdParams::default().convergence_tol, allow_negative_numbers = true)]
    pub convergence_tol: f64,
    /// Fit an intercept (MLlib setIntercept(true)).
    #[arg(long)]
    pub intercept: bool,
    /// Feature scaling.
    #[arg(long, value_enum, default_value_t = Scale::None)]
    pub scale: Scale,
    /// Weight rows so that both labels weigh the same (off: MLlib parity).
    #[arg(long)]
    pub class_weighting: bool,
    /// Extractor id for a legacy JSON folder.
    #[arg(long, default_value = "vgg16-fc2")]
    pub extractor: String,
    /// Output folder: results.csv/.json/.md, accuracy.png, models/, paws.log; replaced
    /// only by a complete run.
    #[arg(short, long, default_value = "out")]
    pub output: PathBuf,
}

/// With no data or class arguments: the README's main job on the embedded sample.
pub fn default_comparisons() -> Vec<ComparisonSpec> {
    vec![
        ComparisonSpec::Versus("Abyssinian".into(), vec!["Bengal".into()]),
        ComparisonSpec::VersusAll("american_bulldog".into()),
    ]
}

impl ExperimentArgs {
    /// The experiment these arguments ask for, validated.
    pub fn config(&self) -> paws_core::Result<ExperimentConfig> {
        let comparisons = if self.all_pairs {
            vec![ComparisonSpec::AllPairs]
        } else {
            match (&self.class, self.vs.as_slice()) {
                (None, []) if self.features.is_none() => default_comparisons(),
                (None, _) => {
                    return Err(PawsError::invalid("--class is required (or --all-pairs)"))
                }
                (Some(_), []) => {
                    return Err(PawsError::invalid(
                        "--vs is required with --class: a class list, or all",
                    ))
                }
                (Some(c), [all]) if all.eq_ignore_ascii_case("all") => {
                    vec![ComparisonSpec::VersusAll(c.clone())]
                }
                (Some(c), vs) => vec![ComparisonSpec::Versus(c.clone(), vs.to_vec())],
            }
        };
        let cfg = ExperimentConfig {
            comparisons,
            splits: experiment::parse_splits(&self.splits)?,
            sgd: SgdParams {
                loss: self.model.into(),
                updater: self.updater.into(),
                step_size: self.step_size,
                iterations: self.iterations,
                reg_param: self.reg_param,
                mini_batch_fraction: self.mini_batch_fraction,
                convergence_tol: self.convergence_tol,
            },
            intercept: self.intercept,
            standardize: self.scale == Scale::Standard,
            class_weighting: self.class_weighting,
            seed: self.seed,
        };
        cfg.sgd.validate().map_err(name_the_option)?;
        Ok(cfg)
    }
}

/// The SGD parameters' MLlib names and the options that set them.
const OPTIONS: [(&str, &str); 4] = [
    ("stepSize", "--step-size"),
    ("regParam", "--reg-param"),
    ("miniBatchFraction", "--mini-batch-fraction"),
    ("convergenceTol", "--convergence-tol"),
];

/// [`SgdParams::validate`]'s message (in MLlib's names) prefixed with the option.
fn name_the_option(e: PawsError) -> PawsError {
    if let PawsError::InvalidArgument(m) = &e {
        if let Some((_, option)) = OPTIONS.iter().find(|(mllib, _)| m.starts_with(mllib)) {
            return PawsError::invalid(format!("{option}: {m}"));
        }
    }
    e
}

/// `PetBreedExperiment`'s arguments (those of `paws experiment`, without the command
/// name). `Ok(Err(text))` is the text of `--help` or `--version`; `Err` is clap's
/// message for arguments it rejects.
pub fn parse_experiment(args: &[String]) -> Result<Result<ExperimentArgs, String>, String> {
    Ok(match parse_command("experiment", args)? {
        Ok(Command::Experiment(a)) => Ok(a),
        Ok(_) => unreachable!("the subcommand is always experiment"),
        Err(text) => Err(text),
    })
}

/// The arguments of `paws train-breeds` (for `dev.paws.spark.TrainBreeds`), as
/// [`parse_experiment`] parses those of `paws experiment`.
pub fn parse_train_breeds(args: &[String]) -> Result<Result<TrainBreedsArgs, String>, String> {
    Ok(match parse_command("train-breeds", args)? {
        Ok(Command::TrainBreeds(a)) => Ok(a),
        Ok(_) => unreachable!("the subcommand is always train-breeds"),
        Err(text) => Err(text),
    })
}

/// `paws <name> <args>`: the command, or `Ok(Err(text))` for `--help`/`--version`, or
/// `Err(message)` for arguments clap refuses.
fn parse_command(name: &str, args: &[String]) -> Result<Result<Command, String>, String> {
    let argv = ["paws".to_string(), name.to_string()]
        .into_iter()
        .chain(args.iter().cloned());
    match Cli::try_parse_from(argv) {
        Ok(cli) => Ok(Ok(cli.command)),
        Err(e) => match e.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                Ok(Err(e.render().to_string()))
            }
            _ => Err(e.render().to_string().trim_end().to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn defaults_are_the_cores() {
        let cfg = parse_experiment(&[]).unwrap().unwrap().config().unwrap();
        assert_eq!(cfg.sgd, SgdParams::default());
        assert_eq!(cfg.comparisons, default_comparisons());
        assert_eq!(cfg.splits.len(), 9);
        assert_eq!(cfg.seed, ExperimentConfig::default().seed);
    }

    #[test]
    fn updater_names_are_the_cores_with_aliases() {
        for kind in [UpdaterKind::L2, UpdaterKind::L1, UpdaterKind::Simple] {
            let value = Updater::from(kind).to_possible_value().unwrap();
            assert_eq!(value.get_name(), kind.name());
        }
        for (alias, kind) in [
            ("simple", UpdaterKind::Simple),
            ("none", UpdaterKind::Simple),
            ("squared-l2", UpdaterKind::L2),
            ("squaredl2", UpdaterKind::L2),
        ] {
            let a = parse_experiment(&s(&["--updater", alias]))
                .unwrap()
                .unwrap();
            assert_eq!(a.config().unwrap().sgd.updater, kind, "{alias}");
        }
    }

    #[test]
    fn errors_and_help() {
        let a = parse_experiment(&s(&["--class", "Bengal", "--vs", "all", "--splits", "0.5"]))
            .unwrap()
            .unwrap();
        let cfg = a.config().unwrap();
        assert_eq!(
            cfg.comparisons,
            vec![ComparisonSpec::VersusAll("Bengal".into())]
        );
        assert_eq!(cfg.splits, vec![0.5]);
        let e = parse_experiment(&s(&["--model", "tree"])).unwrap_err();
        assert!(e.contains("invalid value 'tree'"), "{e}");
        let a = parse_experiment(&s(&["--features", "x.parquet"]))
            .unwrap()
            .unwrap();
        assert!(a
            .config()
            .unwrap_err()
            .to_string()
            .contains("--class is required"));
        let help = parse_experiment(&s(&["--help"])).unwrap().unwrap_err();
        assert!(help.contains("--mini-batch-fraction"));
        assert!(help.contains("Exit status"), "{help}");
    }

    #[test]
    fn train_breeds_defaults_are_the_cores_and_bad_values_are_named() {
        let parse = |args: &[&str]| {
            let argv = ["paws", "train-breeds"].iter().chain(args);
            match Cli::try_parse_from(argv).unwrap().command {
                Command::TrainBreeds(a) => a,
                other => panic!("{other:?}"),
            }
        };
        let a = parse(&["-o", "m.json"]);
        assert!(a.features.is_empty());
        assert_eq!(a.config().unwrap(), BreedConfig::default());
        let cfg = parse(&["-o", "m.json", "--no-class-weighting", "--iterations", "7"])
            .config()
            .unwrap();
        assert!(!cfg.class_weighting);
        assert_eq!(cfg.sgd.iterations, 7);
        for (args, named) in [
            (&["--holdout", "1.5"][..], "--holdout"),
            (&["--step-size", "-1"][..], "--step-size"),
            (&["--cross-validate", "1"][..], "--cross-validate"),
        ] {
            let e = parse(&[&["-o", "m.json"][..], args].concat())
                .config()
                .unwrap_err()
                .to_string();
            assert!(e.contains(named), "{e}");
        }
        assert!(Cli::try_parse_from(["paws", "train-breeds"]).is_err());
        assert!(Cli::try_parse_from(["paws", "predict"]).is_err());
    }

    #[test]
    fn negative_values_reach_the_check_that_names_the_option() {
        for (mllib, option) in OPTIONS {
            let a = parse_experiment(&s(&[option, "-1"])).unwrap().unwrap();
            let e = a.config().unwrap_err().to_string();
            assert!(e.contains(option) && e.contains(mllib), "{e}");
        }
    }

    #[test]
    fn every_option_has_help_with_its_default() {
        let help = parse_experiment(&s(&["--help"])).unwrap().unwrap_err();
        let d = SgdParams::default();
        for (option, text) in [
            (
                "--iterations",
                format!("(MLlib numIterations) [default: {}]", d.iterations),
            ),
            (
                "--step-size",
                format!("(MLlib stepSize) [default: {}]", d.step_size),
            ),
            (
                "--reg-param",
                format!("(MLlib regParam) [default: {}]", d.reg_param),
            ),
            (
                "--mini-batch-fraction",
                format!(
                    "(MLlib miniBatchFraction) [default: {}]",
                    d.mini_batch_fraction
                ),
            ),
        ] {
            let at = help.find(option).unwrap();
            let entry = &help[at..];
            let entry = &entry[..entry[2..].find("\n      --").map_or(entry.len(), |i| i + 2)];
            let flat = entry.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(flat.contains(&text), "{option}: {flat}");
        }
        let cmd = <Cli as clap::CommandFactory>::command();
        let exp = cmd.find_subcommand("experiment").unwrap();
        for arg in exp.get_arguments() {
            assert!(arg.get_help().is_some(), "{} has no help", arg.get_id());
        }
    }
}
