//! `paws predict`: the breed of photos, with the CNN the breed model was trained on.

use anyhow::{bail, Context, Result};
use paws_args::PredictArgs;
use paws_core::breeds::model_file::Scored;
use paws_core::breeds::BreedModel;
use paws_vision::{Extractor, ModelOptions};
use serde_json::json;
use std::path::PathBuf;

/// The breed model (`model`, or the committed default) and the CNN it was trained on
/// (`cnn`, or the cached default), checked against each other: a model applied to
/// another network's features gives confident nonsense. Shared with `paws serve`.
pub fn load(
    model: Option<PathBuf>,
    cnn: Option<PathBuf>,
) -> Result<(PathBuf, BreedModel, Extractor)> {
    let model_path = model.unwrap_or_else(super::default_breed_model);
    let model = BreedModel::load(&model_path).context("loading the breed model")?;
    let cnn = cnn.unwrap_or_else(paws_vision::default_model_path);
    if !cnn.exists() {
        bail!(
            "CNN model {} not found: run scripts/fetch-model.sh for the default EfficientNet-Lite0, or pass --cnn",
            cnn.display()
        );
    }
    let options = ModelOptions {
        logits_output: None,
        ..ModelOptions::default()
    };
    let extractor = Extractor::load(&cnn, options).context("loading the CNN")?;
    model.check_extractor(&model_path, &extractor.info())?;
    Ok((model_path, model, extractor))
}

pub fn run(args: PredictArgs) -> Result<()> {
    if args.top == 0 {
        bail!("--top must be at least 1");
    }
    let (model_path, model, extractor) = load(args.model.clone(), args.cnn.clone())?;

    let mut predicted: Vec<(String, Vec<Scored>)> = Vec::new();
    let mut skipped: Vec<(String, String)> = Vec::new();
    for photo in &args.photos {
        let name = photo.display().to_string();
        match extractor.run_file(photo) {
            Ok(out) => predicted.push((name, model.top(&out.features, args.top))),
            Err(e) if args.strict => return Err(e).context("predicting (--strict)"),
            Err(e) => {
                log::warn!("skipping {name}: {e}");
                skipped.push((name, e.to_string()));
            }
        }
    }

    if args.json {
        let doc = json!({
            "model": model_path.display().to_string(),
            "extractor": model.extractor.model,
            "temperature": model.temperature,
            "predictions": predicted.iter().map(|(photo, top)| json!({
                "photo": photo,
                "top": top,
            })).collect::<Vec<_>>(),
            "skipped": skipped.iter().map(|(photo, error)| json!({
                "photo": photo,
                "error": error,
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        for (photo, top) in &predicted {
            println!("{photo}");
            for (i, s) in top.iter().enumerate() {
                println!(
                    "  {}. {:<28} {}  {:5.1} %",
                    i + 1,
                    s.breed,
                    s.species,
                    100.0 * s.score
                );
            }
        }
    }
    if !skipped.is_empty() {
        let names: Vec<&str> = skipped.iter().map(|(p, _)| p.as_str()).collect();
        bail!(
            "{} of {} photo(s) could not be read and were skipped: {}",
            skipped.len(),
            args.photos.len(),
            names.join(", ")
        );
    }
    Ok(())
}
