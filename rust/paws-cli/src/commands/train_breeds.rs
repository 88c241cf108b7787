//! `paws train-breeds`: one predictor of every breed in the features, its held-out
//! evaluation (top-1, top-3, confusion matrix as CSV and PNG) and, on request, a k-fold
//! cross-validation.

use anyhow::{Context, Result};
use paws_args::TrainBreedsArgs;
use paws_core::breeds::{cross_validate, train_breeds};
use paws_core::experiment::CLI_ENGINE;
use paws_core::Dataset;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// `breeds.json` → `breeds.confusion.<ext>`, beside the model.
pub fn confusion_file(model: &Path, ext: &str) -> PathBuf {
    let stem = model
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    model.with_file_name(format!("{stem}.confusion.{ext}"))
}

pub fn run(args: TrainBreedsArgs) -> Result<()> {
    let t = Instant::now();
    let cfg = args.config()?;
    let (csv, png) = (
        confusion_file(&args.output, "csv"),
        confusion_file(&args.output, "png"),
    );
    // Checked before any training: a run that cannot write its outputs fails at once.
    for path in [&args.output, &csv, &png] {
        paws_report::staging::check_output_path(path, false)?;
    }
    let paths = if args.features.is_empty() {
        vec![super::embedded_features(), super::embedded_few_photos()]
    } else {
        args.features.clone()
    };
    let parts = paths
        .iter()
        .map(|p| super::load_features(p, "unknown"))
        .collect::<Result<Vec<Dataset>>>()?;
    let sources: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let data = Dataset::concat(&parts, sources.join(" + ")).context("reading features")?;

    let training = train_breeds(&data, &cfg, sources, CLI_ENGINE)?;
    let model = &training.model;
    let h = &training.holdout;
    model.save(&args.output).context("writing the model")?;
    paws_core::data::atomic::write_atomic(&csv, h.confusion.to_csv().as_bytes())?;
    let title = format!(
        "paws train-breeds: held-out confusion ({} photos, top-1 {:.3}, top-3 {:.3})",
        h.top.rows,
        h.top.top1_accuracy(),
        h.top.top3_accuracy()
    );
    paws_report::plot_confusion(&png, &h.confusion, &title)?;
    println!(
        "trained {} breeds on {} photos ({} features of {}) in {:.1} s",
        model.breeds.len(),
        data.len(),
        data.dim(),
        data.extractor().model,
        t.elapsed().as_secs_f64()
    );
    println!(
        "held out {} photos: top-1 {:.3}, top-3 {:.3}; temperature {:.3} (held-out NLL {:.3}, {:.3} at T = 1)",
        h.top.rows,
        h.top.top1_accuracy(),
        h.top.top3_accuracy(),
        model.temperature,
        h.nll,
        h.nll_t1
    );
    println!("model:     {}", args.output.display());
    println!("confusion: {} and {}", csv.display(), png.display());

    if let Some(k) = args.cross_validate {
        let t = Instant::now();
        let cv = cross_validate(&data, &cfg, k)?;
        println!(
            "cross-validation ({k} folds, {:.1} s): all {} photos top-1 {:.3}, top-3 {:.3}; \
             {} few-photo breeds (<= {} photos, {} photos) top-1 {:.3}, top-3 {:.3}",
            t.elapsed().as_secs_f64(),
            cv.all.rows,
            cv.all.top1_accuracy(),
            cv.all.top3_accuracy(),
            cv.few_breeds.len(),
            paws_core::breeds::run::FEW_PHOTOS,
            cv.few.rows,
            cv.few.top1_accuracy(),
            cv.few.top3_accuracy()
        );
    }
    Ok(())
}
