//! `paws train-breeds`: one predictor of every breed in the features, its held-out
//! evaluation (top-1, top-3, confusion matrix as CSV and PNG) and, on request, a k-fold
//! cross-validation.

use anyhow::{Context, Result};
use paws_args::TrainBreedsArgs;
use paws_core::breeds::{cross_validate, train_breeds};
use paws_core::experiment::CLI_ENGINE;
use paws_core::Dataset;
use std::time::Instant;

pub fn run(args: TrainBreedsArgs) -> Result<()> {
    let t = Instant::now();
    let cfg = args.config()?;
    let files = paws_report::breed_files(&args.output);
    // Checked before any training: a run that cannot write its outputs fails at once.
    for path in &files {
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
    paws_report::write_breed_training(&args.output, &training)
        .context("writing the breed model")?;
    println!(
        "{}",
        paws_report::training_summary(&training, t.elapsed().as_secs_f64())
    );
    println!("model:     {}", files[0].display());
    println!(
        "confusion: {} and {}",
        files[1].display(),
        files[2].display()
    );

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
