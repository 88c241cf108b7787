//! The breed predictor on Spark (`dev.paws.spark.TrainBreeds`): `paws train-breeds`
//! with Spark reading the features.
//!
//! Spark reads and checks the feature files from any Hadoop path (S3 on EMR) and hands
//! the rows of each file over in the CLI's row order; the training is paws-core's
//! [`train_breeds`], the one `paws train-breeds` runs, so the model file has the same
//! weights and figures (only `engine` and `sources` say where it was made). The
//! training runs on the driver, not in executors: 7,390 photos × 1,280 features are
//! 38 MB, and the batched engine's 100 passes over them take well under a second on
//! one core, where 100 Spark jobs would cost more in scheduling than the whole
//! training.

use crate::guard::{invalid, user, Error, Result};
use crate::handles::Handles;
use paws_args::{parse_train_breeds, TrainBreedsArgs};
use paws_core::breeds::{train_breeds, BreedConfig};
use paws_core::data::dataset::Extractor;
use paws_core::experiment::SPARK_ENGINE;
use paws_core::Dataset;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The committed feature sets `paws train-breeds` trains on without `--features`, as
/// paws-cli finds them.
fn default_features() -> Vec<PathBuf> {
    [
        "examples/oxford-pets-sample/features.parquet",
        "examples/oxford-pets-37-few/features.parquet",
    ]
    .into_iter()
    .map(crate::repo_file)
    .collect()
}

/// One training behind a handle: its arguments and the feature files given so far.
pub struct Training {
    args: TrainBreedsArgs,
    cfg: BreedConfig,
    parts: Vec<Dataset>,
}

static TRAININGS: Handles<Training> = Handles::new("breed training");

/// `--help`/`--version` text when the arguments ask for it.
pub fn usage(args: &[String]) -> Result<Option<String>> {
    Ok(match parse_train_breeds(args) {
        Ok(Err(text)) => Some(text),
        _ => None,
    })
}

pub fn create(args: &[String]) -> Result<i64> {
    let args = match parse_train_breeds(args).map_err(Error::Invalid)? {
        Ok(a) => a,
        Err(_) => return invalid("--help and --version are not runs: call usage() first"),
    };
    if args.cross_validate.is_some() {
        return invalid(
            "--cross-validate is not run on Spark: run `paws train-breeds --cross-validate K` \
             on the same features",
        );
    }
    let cfg = args.config().map_err(user)?;
    Ok(TRAININGS.insert(Training {
        args,
        cfg,
        parts: Vec::new(),
    }))
}

pub fn free(h: i64) -> bool {
    TRAININGS.remove(h)
}

#[cfg(feature = "test-hooks")]
pub fn live() -> usize {
    TRAININGS.live()
}

pub fn with<R>(h: i64, f: impl FnOnce(&mut Training) -> Result<R>) -> Result<R> {
    TRAININGS.with(h, f)
}

impl Training {
    /// The feature files (in order; the committed sets when none was given) and the
    /// output model file, as JSON.
    pub fn info(&self) -> String {
        let default = self.args.features.is_empty();
        let features = if default {
            default_features()
        } else {
            self.args.features.clone()
        };
        json!({
            "features": features.iter().map(|p| p.to_string_lossy()).collect::<Vec<_>>(),
            "default_features": default,
            "output": self.args.output.to_string_lossy(),
        })
        .to_string()
    }

    /// The rows of one feature file, in its order (`features` row-major, `dim` wide).
    pub fn add_part(
        &mut self,
        images: Vec<String>,
        breeds: Vec<String>,
        features: Vec<f32>,
        dim: usize,
        extractor: String,
        source: String,
    ) -> Result<()> {
        let part = Dataset::new(
            dim,
            features,
            images,
            breeds,
            Extractor {
                model: extractor,
                dim,
            },
            source,
        )
        .map_err(user)?;
        self.parts.push(part);
        Ok(())
    }

    /// Trains on every part given (concatenated in order, as the CLI does), writes the
    /// model and its confusion files into `dir` under the output's file name, and
    /// returns `{"files": [...], "summary": "..."}`.
    pub fn train(&self, dir: &Path) -> Result<String> {
        if self.parts.is_empty() {
            return invalid("no features given: call addPart first");
        }
        let t = Instant::now();
        let sources: Vec<String> = self
            .parts
            .iter()
            .map(|p| p.source_name().to_string())
            .collect();
        let data = Dataset::concat(&self.parts, sources.join(" + ")).map_err(user)?;
        let training = train_breeds(&data, &self.cfg, sources, SPARK_ENGINE).map_err(user)?;
        let name = self
            .args
            .output
            .file_name()
            .ok_or_else(|| Error::Invalid("the output must name a file".into()))?;
        let model = dir.join(name);
        paws_report::write_breed_training(&model, &training)
            .map_err(|e| Error::Io(e.to_string()))?;
        let files: Vec<String> = paws_report::breed_files(&model)
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        Ok(json!({
            "files": files,
            "summary": paws_report::training_summary(&training, t.elapsed().as_secs_f64()),
        })
        .to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn arguments_are_the_clis() {
        assert!(usage(&s(&["--help"]))
            .unwrap()
            .unwrap()
            .contains("--cross-validate"));
        let e = format!(
            "{:?}",
            create(&s(&["--holdout", "1.5", "-o", "m.json"])).unwrap_err()
        );
        assert!(e.contains("--holdout"), "{e}");
        let e = format!(
            "{:?}",
            create(&s(&["--cross-validate", "3", "-o", "m.json"])).unwrap_err()
        );
        assert!(e.contains("not run on Spark"), "{e}");
    }

    #[test]
    fn default_features_are_the_committed_sets_in_the_clis_order() {
        let h = create(&s(&["-o", "out/m.json"])).unwrap();
        let info: serde_json::Value =
            serde_json::from_str(&with(h, |t| Ok(t.info())).unwrap()).unwrap();
        assert_eq!(info["default_features"], true);
        assert_eq!(info["output"], "out/m.json");
        let f = info["features"].as_array().unwrap();
        assert!(f[0]
            .as_str()
            .unwrap()
            .ends_with("oxford-pets-sample/features.parquet"));
        assert!(f[1]
            .as_str()
            .unwrap()
            .ends_with("oxford-pets-37-few/features.parquet"));
        let e = format!("{:?}", with(h, |t| t.train(Path::new("."))).unwrap_err());
        assert!(e.contains("no features given"), "{e}");
        assert!(free(h));
        assert!(!free(h));
    }

    #[test]
    fn parts_of_two_extractors_are_refused_naming_both() {
        let h = create(&s(&["-o", "m.json"])).unwrap();
        let part = |t: &mut Training, model: &str, source: &str| {
            t.add_part(
                s(&["a_1.jpg", "b_1.jpg"]),
                s(&["a", "b"]),
                vec![0.5; 4],
                2,
                model.into(),
                source.into(),
            )
        };
        with(h, |t| part(t, "cnn-1", "one.parquet")).unwrap();
        with(h, |t| part(t, "cnn-2", "two.parquet")).unwrap();
        let dir = std::env::temp_dir().join(format!("paws-jni-breeds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let e = format!("{:?}", with(h, |t| t.train(&dir)).unwrap_err());
        assert!(e.contains("cnn-1") && e.contains("cnn-2"), "{e}");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
        free(h);
    }
}
