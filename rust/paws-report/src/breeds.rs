//! The breed predictor's outputs, as `paws train-breeds` and the Spark main
//! `dev.paws.spark.TrainBreeds` both write them: the model file, and beside it the
//! held-out confusion matrix as `<stem>.confusion.csv` and `.png`; and the lines that
//! report the training.

use crate::heatmap::plot_confusion;
use crate::{write_atomic, Result};
use paws_core::breeds::BreedTraining;
use std::path::{Path, PathBuf};

/// `breeds.json` → `breeds.confusion.<ext>`, beside the model.
pub fn confusion_file(model: &Path, ext: &str) -> PathBuf {
    let stem = model
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    model.with_file_name(format!("{stem}.confusion.{ext}"))
}

/// The files of a training whose model is `model`, in the order they are written.
pub fn breed_files(model: &Path) -> [PathBuf; 3] {
    [
        model.to_path_buf(),
        confusion_file(model, "csv"),
        confusion_file(model, "png"),
    ]
}

/// Writes the model, then the confusion CSV and heatmap, each atomically.
pub fn write_breed_training(model: &Path, training: &BreedTraining) -> Result<()> {
    let [_, csv, png] = breed_files(model);
    let h = &training.holdout;
    training.model.save(model)?;
    write_atomic(&csv, h.confusion.to_csv().as_bytes())?;
    let title = format!(
        "paws train-breeds: held-out confusion ({} photos, top-1 {:.3}, top-3 {:.3})",
        h.top.rows,
        h.top.top1_accuracy(),
        h.top.top3_accuracy()
    );
    plot_confusion(&png, &h.confusion, &title)?;
    Ok(())
}

/// What was trained and how well it did on the held-out photos, in two lines.
pub fn training_summary(training: &BreedTraining, seconds: f64) -> String {
    let model = &training.model;
    let h = &training.holdout;
    format!(
        "trained {} breeds on {} photos ({} features of {}) in {seconds:.1} s\n\
         held out {} photos: top-1 {:.3}, top-3 {:.3}; temperature {:.3} (held-out NLL {:.3}, {:.3} at T = 1)",
        model.breeds.len(),
        model.training.rows,
        model.feature_dim,
        model.extractor.model,
        h.top.rows,
        h.top.top1_accuracy(),
        h.top.top3_accuracy(),
        model.temperature,
        h.nll,
        h.nll_t1
    )
}
