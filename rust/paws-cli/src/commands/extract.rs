//! `paws extract`: a folder of photos to a feature Parquet file.

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use paws_args::{ExtractArgs, ExtractBackend};
use paws_core::data::parquet_io::{write_parquet_with, META_BACKEND};
use paws_vision::{extract_folder, Backend, Extractor, ModelOptions};
use std::time::Instant;

pub fn run(args: ExtractArgs) -> Result<()> {
    // Checked before the model is loaded and any image decoded: a run that cannot write
    // its output fails at once. The file itself is written atomically at the end.
    let output = crate::storage::Output::new(&args.output)?;
    paws_report::staging::check_output_path(output.local(), false)?;
    // The model may be on S3 too (downloaded into a temporary folder).
    let model_input = match &args.model {
        Some(model) => Some(crate::storage::input(model)?),
        None => None,
    };
    let model = model_input
        .as_ref()
        .map(|m| m.path.clone())
        .unwrap_or_else(paws_vision::default_model_path);
    if !model.exists() {
        bail!(
            "model {} not found: run scripts/fetch-model.sh for the default EfficientNet-Lite0, or pass --model",
            model.display()
        );
    }
    // Photos on S3 are downloaded into a temporary folder first (a bounded number at a
    // time, each streamed to disk).
    let images = crate::storage::input(&args.images)?;
    if !images.path.is_dir() {
        bail!("{}: not a folder of images", args.images.display());
    }
    let t = Instant::now();
    let options = ModelOptions {
        input_size: args.input_size,
        features_output: args.feature_output.clone(),
        logits_output: (!args.logits_output.eq_ignore_ascii_case("none"))
            .then(|| args.logits_output.clone()),
        model_id: args.model_id.clone(),
    };
    let backend = Backend::from_name(
        match args.backend {
            ExtractBackend::Tract => "tract",
            ExtractBackend::Onnxruntime => "onnxruntime",
        },
        args.onnxruntime_lib.clone(),
    )?;
    let extractor = Extractor::load_with(&model, options, &backend).context("loading the model")?;
    let model_shown = args.model.as_deref().unwrap_or(&model).display();
    log::info!(
        "model {} ({}, {} features) loaded with {} in {:.3} s",
        model_shown,
        extractor.model_id(),
        extractor.dim(),
        extractor.backend(),
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} images, {per_sec} (eta {eta})")
            .expect("template"),
    );
    let out = extract_folder(&images.path, &extractor, args.strict, &|done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })
    .with_context(|| format!("extracting {}", args.images.display()))?;
    bar.finish_and_clear();
    let secs = t.elapsed().as_secs_f64();
    // Each skipped image was warned about once, as it was skipped.
    log::info!(
        "extract: {} images in {:.2} s ({:.1} images/s), {} skipped",
        out.dataset.len(),
        secs,
        out.dataset.len() as f64 / secs.max(1e-9),
        out.skipped.len()
    );
    write_parquet_with(
        output.local(),
        &out.dataset,
        &[(META_BACKEND, extractor.backend())],
    )
    .context("writing features")?;
    output.publish_file()?;
    println!(
        "wrote {} rows × {} features to {} ({} skipped)",
        out.dataset.len(),
        out.dataset.dim(),
        args.output.display(),
        out.skipped.len()
    );
    Ok(())
}
