//! The onnxruntime backend against tract: the same features (within 1e-4) on real
//! photos, and the tiny fixture model's known values.
//!
//! Needs the library in `$ORT_DYLIB_PATH` (scripts/test.sh pip-installs onnxruntime into
//! its venv and exports it, with `PAWS_REQUIRE_ONNXRUNTIME=1`, which makes a missing
//! library a failure); the real-photo test also needs the model and the sample photos
//! beside the repository. Without them the tests print `SKIPPED: ...` and pass.
#![cfg(feature = "onnxruntime")]

mod common;

use paws_testkit::skip::say;
use paws_vision::{
    decode_file, default_model_path, list_files, preprocess, Backend, Extractor, ModelOptions,
    OnnxRuntimeOptions,
};
use std::path::PathBuf;
use std::time::Instant;

/// `$ORT_DYLIB_PATH`, or `None` after saying why (a panic under
/// `PAWS_REQUIRE_ONNXRUNTIME=1`).
fn library_or_skip(test: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let msg = format!(
        "{test}: ORT_DYLIB_PATH is not set (point it at the libonnxruntime.so.1.* of `pip install onnxruntime`)"
    );
    if std::env::var("PAWS_REQUIRE_ONNXRUNTIME").as_deref() == Ok("1") {
        panic!("{msg}; PAWS_REQUIRE_ONNXRUNTIME=1 requires it");
    }
    say(&format!("SKIPPED: {msg}"));
    None
}

fn onnxruntime(library: PathBuf) -> Backend {
    Backend::OnnxRuntime(OnnxRuntimeOptions {
        library: Some(library),
        ..OnnxRuntimeOptions::default()
    })
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn tiny_model_gives_the_known_values_on_onnxruntime() {
    let Some(library) = library_or_skip("onnxruntime tiny model") else {
        return;
    };
    let options = ModelOptions {
        input_size: 32,
        ..ModelOptions::default()
    };
    let ex = Extractor::load_with(&common::tiny_model(), options, &onnxruntime(library)).unwrap();
    assert_eq!(ex.backend(), "onnxruntime");
    assert_eq!((ex.dim(), ex.logits_dim()), (3, Some(4)));
    // Magenta: channel means 1, -1, 1 after (x/255 - 0.5)/0.5 (see tests/folder.rs).
    let out = ex
        .run_image(&common::uniform(50, 40, [255, 0, 255]), "magenta")
        .unwrap();
    assert_eq!(out.features, vec![1.0, -1.0, 1.0]);
    assert_eq!(out.logits, Some(vec![1.0, -1.0, 1.0, 1.5]));
}

#[test]
fn onnxruntime_names_a_missing_output() {
    let Some(library) = library_or_skip("onnxruntime missing output") else {
        return;
    };
    let options = ModelOptions {
        input_size: 32,
        features_output: "fc7".into(),
        ..ModelOptions::default()
    };
    let msg = Extractor::load_with(&common::tiny_model(), options, &onnxruntime(library))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("tiny.onnx") && msg.contains("'fc7' not found"),
        "{msg}"
    );
}

#[test]
fn tract_and_onnxruntime_agree_on_sample_photos() {
    let Some(library) = library_or_skip("tract vs onnxruntime") else {
        return;
    };
    let Some(model) =
        paws_testkit::skip::model_or_skip("tract vs onnxruntime", &default_model_path())
    else {
        return;
    };
    let images = common::shared_dir().join("data/oxford-pets-sample/images");
    if !images.is_dir() {
        say(&format!(
            "SKIPPED: tract vs onnxruntime: {} not found (the sample data lives beside the repository)",
            images.display()
        ));
        return;
    }
    // Every 30th photo: 20 of the 600, across the breeds.
    let files: Vec<_> = list_files(&images)
        .unwrap()
        .into_iter()
        .step_by(30)
        .collect();
    assert_eq!(files.len(), 20);
    let t = Instant::now();
    let tract = Extractor::load(&model, ModelOptions::default()).unwrap();
    let ort = Extractor::load_with(&model, ModelOptions::default(), &onnxruntime(library)).unwrap();
    assert_eq!(ort.backend(), "onnxruntime");
    assert_eq!(ort.model_id(), tract.model_id());
    assert_eq!(
        (ort.dim(), ort.logits_dim()),
        (tract.dim(), tract.logits_dim())
    );
    let (mut features, mut logits) = (0.0f32, 0.0f32);
    for f in &files {
        let input = preprocess(&decode_file(f).unwrap(), tract.input_size());
        let name = f.display().to_string();
        let (a, b) = (
            tract.run(&input, &name).unwrap(),
            ort.run(&input, &name).unwrap(),
        );
        features = features.max(max_abs_diff(&a.features, &b.features));
        logits = logits.max(max_abs_diff(&a.logits.unwrap(), &b.logits.unwrap()));
    }
    say(&format!(
        "tract vs onnxruntime on {} photos: max |diff| features {features:e}, logits {logits:e} ({:.1} s)",
        files.len(),
        t.elapsed().as_secs_f64()
    ));
    assert!(features <= 1e-4, "features differ by {features}");
    assert!(logits <= 1e-4, "logits differ by {logits}");
}

#[test]
fn one_library_per_process() {
    let Some(library) = library_or_skip("onnxruntime one library") else {
        return;
    };
    let options = || ModelOptions {
        input_size: 32,
        ..ModelOptions::default()
    };
    let tiny = common::tiny_model();
    Extractor::load_with(&tiny, options(), &onnxruntime(library.clone())).unwrap();
    // The same file by another name (a symbolic link) is the library already loaded.
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("libonnxruntime.so");
    std::os::unix::fs::symlink(&library, &link).unwrap();
    Extractor::load_with(&tiny, options(), &onnxruntime(link)).unwrap();
    // Another file is refused, naming both.
    let other = common::write(dir.path(), "libother.so", b"not loaded");
    let msg = Extractor::load_with(&tiny, options(), &onnxruntime(other.clone()))
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with(&format!("{}: cannot load onnxruntime: ", other.display()))
            && msg.contains(&format!("already loaded from {}", library.display())),
        "{msg}"
    );
}
