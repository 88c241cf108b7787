//! The real model on real photos: EfficientNet-Lite0 must recognise the sample's cats
//! and dogs through its ImageNet logits.
//!
//! Needs `<workspace>/../shared/data/oxford-pets-sample/images` and the converted model
//! (`scripts/fetch-model.sh`, or `$PAWS_MODEL`). Where either is absent the test prints
//! `SKIPPED: ...` and passes, except that `PAWS_REQUIRE_MODEL=1` makes a missing model
//! a failure.

mod common;

use paws_vision::{default_model_path, extract_folder, Extractor, ModelOptions};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// Writes to the real stderr, bypassing the test harness's capture, so that skips and
/// measurements show in a plain `cargo test` run.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// ImageNet-1k classes 281..=285 are domestic cats, 151..=268 dogs.
const CAT_CLASSES: std::ops::RangeInclusive<usize> = 281..=285;
const DOG_CLASSES: std::ops::RangeInclusive<usize> = 151..=268;

fn model_or_skip(test: &str) -> Option<PathBuf> {
    paws_testkit::skip::model_or_skip(test, &default_model_path())
}

fn argmax(row: &[f32]) -> usize {
    row.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
            if v > best.1 {
                (i, v)
            } else {
                best
            }
        })
        .0
}

#[test]
fn efficientnet_recognises_cats_and_dogs_in_the_sample() {
    let Some(model) = model_or_skip("real photos") else {
        return;
    };
    let images = common::shared_dir().join("data/oxford-pets-sample/images");
    if !images.is_dir() {
        say!(
            "SKIPPED: real photos: {} not found (the sample data lives beside the repository)",
            images.display()
        );
        return;
    }
    let t = Instant::now();
    let ex = Extractor::load(&model, ModelOptions::default()).unwrap();
    say!("model loaded in {:.2} s", t.elapsed().as_secs_f64());
    assert_eq!(ex.model_id(), "efficientnet-lite0-imagenet");
    assert_eq!((ex.dim(), ex.logits_dim()), (1280, Some(1000)));

    let t = Instant::now();
    let out = extract_folder(&images, &ex, true, &|_, _| {}).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let ds = &out.dataset;
    assert_eq!(ds.len(), 600, "skipped: {:?}", out.skipped);
    assert!(out.skipped.is_empty());
    say!(
        "extracted {} photos in {secs:.1} s: {:.1} images/s on {} rayon threads",
        ds.len(),
        ds.len() as f64 / secs,
        rayon::current_num_threads()
    );
    assert_eq!(ds.dim(), 1280);
    assert_eq!(ds.extractor().model, "efficientnet-lite0-imagenet");
    let (lo, hi) = ds
        .features()
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    say!("feature range [{lo}, {hi}]");
    assert!(
        lo >= 0.0 && hi <= 6.0,
        "features outside [0, 6]: [{lo}, {hi}]"
    );
    assert!(hi > 0.5, "features look dead: max {hi}");

    let logits = out.logits.as_ref().unwrap();
    assert_eq!(logits.len(), 600 * 1000);
    let (mut cats, mut cat_ok, mut dogs, mut dog_ok) = (0, 0, 0, 0);
    for (i, row) in logits.chunks_exact(1000).enumerate() {
        let top = argmax(row);
        if paws_core::data::dataset::species_of(ds.breed(i)) == "cat" {
            cats += 1;
            cat_ok += usize::from(CAT_CLASSES.contains(&top));
        } else {
            dogs += 1;
            dog_ok += usize::from(DOG_CLASSES.contains(&top));
        }
    }
    let cat_rate = cat_ok as f64 / cats as f64;
    let dog_rate = dog_ok as f64 / dogs as f64;
    say!(
        "ImageNet top-1: cats {cat_ok}/{cats} = {:.1} % in 281..=285, dogs {dog_ok}/{dogs} = {:.1} % in 151..=268",
        100.0 * cat_rate,
        100.0 * dog_rate
    );
    assert_eq!((cats, dogs), (400, 200));
    assert!(cat_rate >= 0.85, "cat top-1 rate {cat_rate}");
    assert!(dog_rate >= 0.95, "dog top-1 rate {dog_rate}");
}

#[test]
fn converted_model_loads_with_features_only() {
    let Some(model) = model_or_skip("features only") else {
        return;
    };
    let ex = Extractor::load(
        &model,
        ModelOptions {
            logits_output: None,
            ..ModelOptions::default()
        },
    )
    .unwrap();
    assert_eq!((ex.dim(), ex.logits_dim()), (1280, None));
    let img = common::uniform(320, 240, [120, 90, 60]);
    let out = ex.run_image(&img, "brown").unwrap();
    assert_eq!(out.features.len(), 1280);
    assert!(out.logits.is_none());
    assert!(out.features.iter().all(|v| (0.0..=6.0).contains(v)));
}
