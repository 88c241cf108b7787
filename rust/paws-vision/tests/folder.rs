//! Loading models and extracting folders, with the tiny test model
//! (tests/fixtures/tiny.onnx, from tools/make_test_model.py).

mod common;

use common::{encode, jpeg, tiny_model, uniform, write};
use image::{DynamicImage, ImageFormat, Rgba, RgbaImage};
use paws_vision::preprocess::normalize;
use paws_vision::{extract_folder, Extractor, ModelOptions, VisionError};
use std::path::Path;
use std::sync::Mutex;

fn tiny(logits: bool) -> Extractor {
    Extractor::load(
        &tiny_model(),
        ModelOptions {
            input_size: 32,
            logits_output: logits.then(|| "logits".into()),
            ..ModelOptions::default()
        },
    )
    .unwrap()
}

fn png(c: [u8; 3]) -> Vec<u8> {
    encode(
        DynamicImage::ImageRgb8(uniform(40, 30, c)),
        ImageFormat::Png,
    )
}

/// A folder with three good photos (one a PNG named .jpg, one RGBA), a truncated JPEG,
/// a file with no breed in its name, a hidden file and a subfolder.
fn messy_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "Bengal_10.jpg", &png([255, 0, 0]));
    write(d, "Bengal_2.jpg", &png([0, 255, 0]));
    let rgba = RgbaImage::from_pixel(30, 40, Rgba([0, 0, 255, 7]));
    write(
        d,
        "beagle_1.jpg",
        &encode(DynamicImage::ImageRgba8(rgba), ImageFormat::Png),
    );
    let full = jpeg(64, 64);
    write(d, "Bengal_3.jpg", &full[..full.len() / 2]);
    write(d, "notes.txt", b"hello");
    write(d, ".DS_Store", b"junk");
    std::fs::create_dir(d.join("sub_1.jpg")).unwrap();
    dir
}

#[test]
fn load_reads_metadata_and_output_widths() {
    let ex = tiny(true);
    assert_eq!(ex.model_id(), "paws-tiny-test");
    assert_eq!(ex.dim(), 3);
    assert_eq!(ex.logits_dim(), Some(4));
    assert_eq!(ex.input_size(), 32);
    let info = ex.info();
    assert_eq!((info.model.as_str(), info.dim), ("paws-tiny-test", 3));

    let named = Extractor::load(
        &tiny_model(),
        ModelOptions {
            input_size: 32,
            model_id: Some("mine".into()),
            ..ModelOptions::default()
        },
    )
    .unwrap();
    assert_eq!(named.model_id(), "mine");
}

#[test]
fn user_named_output_without_logits() {
    // Like a user's VGG16 whose only output of interest is "fc2".
    let ex = Extractor::load(
        &tiny_model(),
        ModelOptions {
            input_size: 32,
            features_output: "fc2".into(),
            logits_output: None,
            model_id: Some("vgg16-fc2".into()),
        },
    )
    .unwrap();
    assert_eq!((ex.dim(), ex.logits_dim()), (3, None));
    let out = ex
        .run_image(&uniform(50, 40, [255, 0, 255]), "magenta")
        .unwrap();
    assert_eq!(out.features, vec![1.0, 0.0, 1.0]); // ReLU of [1, -1, 1]
    assert_eq!(out.logits, None);
}

#[test]
fn missing_output_name_is_a_clear_error() {
    let err = Extractor::load(
        &tiny_model(),
        ModelOptions {
            features_output: "fc7".into(),
            ..ModelOptions::default()
        },
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, VisionError::Model { .. }), "{msg}");
    assert!(msg.contains("tiny.onnx") && msg.contains("fc7"), "{msg}");
}

#[test]
fn not_a_model_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "bad.onnx", b"this is not protobuf");
    let msg = Extractor::load(&p, ModelOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("bad.onnx") && msg.contains("cannot load ONNX model"),
        "{msg}"
    );
}

#[test]
fn run_gives_features_and_logits_of_known_values() {
    let ex = tiny(true);
    let out = ex.run_image(&uniform(60, 45, [0, 128, 255]), "x").unwrap();
    let g = normalize(128);
    let expected = [-1.0, g, 1.0];
    for (a, b) in out.features.iter().zip(expected) {
        assert!((a - b).abs() < 1e-5, "{:?}", out.features);
    }
    let l = out.logits.unwrap();
    assert_eq!(l.len(), 4);
    assert!((l[3] - (g + 0.5)).abs() < 1e-5, "{l:?}");
    let err = ex.run(&[0.0; 5], "short").unwrap_err().to_string();
    assert!(err.contains("short") && err.contains("5 values"), "{err}");
}

#[test]
fn lenient_folder_skips_and_reports_bad_files_in_name_order() {
    let dir = messy_folder();
    let ex = tiny(true);
    let calls = Mutex::new(Vec::new());
    let out = extract_folder(dir.path(), &ex, false, &|done, total| {
        calls.lock().unwrap().push((done, total));
    })
    .unwrap();
    let ds = &out.dataset;
    assert_eq!(
        ds.images(),
        ["Bengal_10.jpg", "Bengal_2.jpg", "beagle_1.jpg"]
    );
    assert_eq!((ds.len(), ds.dim()), (3, 3));
    assert_eq!(ds.breed(0), "Bengal");
    assert_eq!(ds.breed(2), "beagle");
    assert_eq!(ds.extractor().model, "paws-tiny-test");
    assert_eq!(ds.row(0), &[1.0, -1.0, -1.0]);
    assert_eq!(ds.row(1), &[-1.0, 1.0, -1.0]);
    assert_eq!(ds.row(2), &[-1.0, -1.0, 1.0]); // alpha dropped
    let logits = out.logits.unwrap();
    assert_eq!(logits.len(), 3 * 4);
    assert_eq!(logits[3], -0.5);

    let skipped: Vec<(&str, &str)> = out
        .skipped
        .iter()
        .map(|(p, why)| (p.file_name().unwrap().to_str().unwrap(), why.as_str()))
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert_eq!(skipped[0].0, "Bengal_3.jpg");
    assert!(skipped[0].1.contains("truncated"), "{skipped:?}");
    assert_eq!(skipped[1].0, "notes.txt");
    assert!(skipped[1].1.contains("<breed>_<n>"), "{skipped:?}");

    let calls = calls.into_inner().unwrap();
    assert_eq!(calls.first(), Some(&(0, 5)));
    assert_eq!(calls.last(), Some(&(5, 5)));
    assert!(calls.windows(2).all(|w| w[0].0 < w[1].0));
}

#[test]
fn strict_folder_fails_on_the_first_bad_file() {
    let dir = messy_folder();
    let ex = tiny(false);
    // notes.txt has no breed: caught before any decoding.
    let err = extract_folder(dir.path(), &ex, true, &|_, _| {}).unwrap_err();
    assert!(matches!(err, VisionError::BadFileName { .. }), "{err}");
    assert!(err.to_string().contains("notes.txt"));
    // Without it, the truncated JPEG is the error.
    std::fs::remove_file(dir.path().join("notes.txt")).unwrap();
    let err = extract_folder(dir.path(), &ex, true, &|_, _| {}).unwrap_err();
    assert!(matches!(err, VisionError::Decode { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("Bengal_3.jpg") && msg.contains("truncated"),
        "{msg}"
    );
    // And without both, strict passes.
    std::fs::remove_file(dir.path().join("Bengal_3.jpg")).unwrap();
    let out = extract_folder(dir.path(), &ex, true, &|_, _| {}).unwrap();
    assert_eq!(out.dataset.len(), 3);
    assert!(out.logits.is_none() && out.skipped.is_empty());
}

#[test]
fn strict_reports_the_first_bad_file_by_name_whatever_the_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let full = jpeg(64, 64);
    for i in 0..40 {
        let name = format!("pug_{i:02}.jpg");
        if i % 7 == 5 {
            write(dir.path(), &name, &full[..full.len() / 2]);
        } else {
            write(dir.path(), &name, &full);
        }
    }
    let ex = tiny(false);
    for _ in 0..3 {
        let err = extract_folder(dir.path(), &ex, true, &|_, _| {}).unwrap_err();
        assert!(err.to_string().contains("pug_05.jpg"), "{err}");
    }
}

#[test]
fn empty_or_useless_folders_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let ex = tiny(false);
    let err = extract_folder(dir.path(), &ex, false, &|_, _| {}).unwrap_err();
    assert!(
        matches!(err, VisionError::NoImages { skipped: 0, .. }),
        "{err}"
    );
    write(dir.path(), "Bengal_1.jpg", b"garbage");
    let err = extract_folder(dir.path(), &ex, false, &|_, _| {}).unwrap_err();
    assert!(
        matches!(err, VisionError::NoImages { skipped: 1, .. }),
        "{err}"
    );
    let missing = dir.path().join("nope");
    let err = extract_folder(&missing, &ex, false, &|_, _| {}).unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
    assert!(!Path::new(&missing).exists());
}

#[test]
fn extraction_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..30 {
        let img = uniform(50 + i, 40, [(i * 8) as u8, 100, (255 - i * 8) as u8]);
        write(
            dir.path(),
            &format!("Sphynx_{i}.jpg"),
            &encode(DynamicImage::ImageRgb8(img), ImageFormat::Jpeg),
        );
    }
    let ex = tiny(true);
    let a = extract_folder(dir.path(), &ex, true, &|_, _| {}).unwrap();
    let b = extract_folder(dir.path(), &ex, true, &|_, _| {}).unwrap();
    assert_eq!(a.dataset.images(), b.dataset.images());
    assert_eq!(a.dataset.features(), b.dataset.features());
    assert_eq!(a.logits, b.logits);
    assert_eq!(
        a.dataset.images()[..3],
        ["Sphynx_0.jpg", "Sphynx_1.jpg", "Sphynx_10.jpg"]
    );
}

#[test]
fn model_and_images_from_memory_match_files() {
    // Spark executors get the model as broadcast bytes and photos as byte arrays.
    let options = ModelOptions {
        input_size: 32,
        ..ModelOptions::default()
    };
    let bytes = std::fs::read(tiny_model()).unwrap();
    let from_bytes = Extractor::load_bytes(&bytes, Path::new("s3://b/tiny.onnx"), options).unwrap();
    let from_file = tiny(true);
    assert_eq!(from_bytes.model_id(), from_file.model_id());
    assert_eq!(from_bytes.dim(), from_file.dim());

    let dir = messy_folder();
    let photo = dir.path().join("beagle_1.jpg");
    let encoded = std::fs::read(&photo).unwrap();
    assert_eq!(
        from_bytes
            .run_bytes(&encoded, "s3://b/beagle_1.jpg")
            .unwrap(),
        from_file.run_file(&photo).unwrap()
    );

    let truncated = std::fs::read(dir.path().join("Bengal_3.jpg")).unwrap();
    let msg = from_bytes
        .run_bytes(&truncated, "s3://b/Bengal_3.jpg")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("s3://b/Bengal_3.jpg") && msg.contains("truncated"),
        "{msg}"
    );

    for bad in [&b""[..], b"not protobuf"] {
        let msg = Extractor::load_bytes(bad, Path::new("s3://b/m.onnx"), ModelOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("s3://b/m.onnx") && msg.contains("cannot load ONNX model"),
            "{msg}"
        );
    }
}
