//! `paws train-breeds` and `paws predict` end to end.
//!
//! The predict tests need the CNN (`scripts/fetch-model.sh`, or `$PAWS_MODEL`) and the
//! photos in `<workspace>/../shared/data`. Where either is absent a test prints
//! `SKIPPED: ...` and passes, except that `PAWS_REQUIRE_MODEL=1` makes a missing model
//! a failure.

mod common;

use common::{cnn_or_skip, paws, photos_or_skip, repo, text};
use std::path::{Path, PathBuf};

/// Width and height from a PNG's IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[1..4], b"PNG", "{} is no PNG", path.display());
    let be = |i: usize| u32::from_be_bytes(b[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn train_breeds_writes_the_model_and_its_confusion_matrix() {
    let dir = tempfile::tempdir().unwrap();
    // From another folder: the committed feature sets are found beside the binary's
    // sources, as `paws experiment` finds the sample.
    let o = paws(
        &[
            "train-breeds",
            "-o",
            "b.json",
            "--iterations",
            "40",
            "--cross-validate",
            "3",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("trained 37 breeds on 804 photos"), "{out}");
    // "held out 154 photos: top-1 0.9xx, top-3 0.9xx".
    let top1: f64 = out
        .split("top-1 ")
        .nth(1)
        .and_then(|s| s.get(..5))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no top-1 in {out}"));
    assert!(top1 > 0.8, "{out}");
    assert!(out.contains("top-3"), "{out}");
    assert!(out.contains("cross-validation (3 folds"), "{out}");
    assert!(out.contains("34 few-photo breeds"), "{out}");

    let model: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("b.json")).unwrap()).unwrap();
    assert_eq!(model["format"], "paws-breed-model/1");
    assert_eq!(model["breeds"].as_array().unwrap().len(), 37);
    assert_eq!(model["extractor"]["model"], "efficientnet-lite0-imagenet");
    let csv = std::fs::read_to_string(dir.path().join("b.confusion.csv")).unwrap();
    assert_eq!(csv.lines().count(), 38);
    assert!(csv.lines().any(|l| l.starts_with("yorkshire_terrier,")));
    let (w, h) = png_size(&dir.path().join("b.confusion.png"));
    assert!(w > 37 * 24 && h > 37 * 24, "{w}x{h}");
}

#[test]
fn train_breeds_refuses_features_of_two_extractors() {
    let dir = tempfile::tempdir().unwrap();
    use paws_core::data::dataset::Extractor;
    let d = paws_core::Dataset::new(
        2,
        vec![0.0, 1.0, 1.0, 0.0],
        vec!["pug_1.jpg".into(), "pug_2.jpg".into()],
        vec!["pug".into(), "pug".into()],
        Extractor {
            model: "vgg16-fc2".into(),
            dim: 2,
        },
        "x",
    )
    .unwrap();
    let other = dir.path().join("vgg.parquet");
    paws_core::data::parquet_io::write_parquet(&other, &d).unwrap();
    let sample = repo().join("examples/oxford-pets-sample/features.parquet");
    let o = paws(
        &[
            "train-breeds",
            "--features",
            sample.to_str().unwrap(),
            "--features",
            "vgg.parquet",
            "-o",
            "b.json",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("'vgg16-fc2'") && text(&o).contains("efficientnet"),
        "{}",
        text(&o)
    );
    assert!(!dir.path().join("b.json").exists());
}

#[test]
fn predict_names_the_breeds_of_real_photos() {
    let Some(_) = cnn_or_skip("predict") else {
        return;
    };
    let (Some(sample), Some(few)) = (
        photos_or_skip("predict", "oxford-pets-sample"),
        photos_or_skip("predict", "oxford-pets-37-few"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("pug_999.jpg");
    std::fs::write(&bad, b"not an image at all").unwrap();
    let photos: Vec<PathBuf> = [
        sample.join("Abyssinian_1.jpg"),
        sample.join("Bengal_1.jpg"),
        sample.join("american_bulldog_10.jpg"),
        few.join("Birman_121.jpg"),
        few.join("pug_112.jpg"),
        few.join("samoyed_108.jpg"),
    ]
    .into_iter()
    .filter(|p| p.is_file())
    .collect();
    assert!(photos.len() >= 4, "{photos:?}");
    let mut args: Vec<&str> = vec!["predict", "--json"];
    args.extend(photos.iter().map(|p| p.to_str().unwrap()));
    args.push(bad.to_str().unwrap());
    let o = paws(&args, dir.path());
    // The undecodable photo is named, skipped, and makes the exit status 1 …
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("pug_999.jpg") && err.contains("skipped"),
        "{err}"
    );
    // … after every other photo was predicted.
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let preds = doc["predictions"].as_array().unwrap();
    assert_eq!(preds.len(), photos.len());
    assert_eq!(doc["skipped"][0]["photo"], bad.to_str().unwrap());
    let mut right = 0;
    for (p, photo) in preds.iter().zip(&photos) {
        let top = p["top"].as_array().unwrap();
        assert_eq!(top.len(), 3);
        let name = photo.file_name().unwrap().to_str().unwrap();
        let breed = &name[..name.rfind('_').unwrap()];
        right += (top[0]["breed"] == breed) as usize;
        let species = if breed.starts_with(char::is_uppercase) {
            "cat"
        } else {
            "dog"
        };
        assert_eq!(top[0]["species"], species, "{p}");
        let scores: Vec<f64> = top.iter().map(|t| t["score"].as_f64().unwrap()).collect();
        assert!(
            scores.windows(2).all(|w| w[0] >= w[1]) && scores.iter().sum::<f64>() <= 1.0 + 1e-9
        );
    }
    assert!(
        right * 4 >= photos.len() * 3,
        "{right} of {}: {doc}",
        photos.len()
    );

    // Text output, --top, and --strict stopping at the bad photo.
    let first = photos[0].to_str().unwrap();
    let o = paws(&["predict", "--top", "2", first], dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("1. Abyssinian") && out.contains("2. ") && !out.contains("3. "),
        "{out}"
    );
    let o = paws(
        &["predict", "--strict", bad.to_str().unwrap(), first],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("pug_999.jpg") && !text(&o).contains("1. Abyssinian"),
        "{}",
        text(&o)
    );
}

#[test]
fn predict_refuses_a_model_of_another_extractor() {
    let Some(_) = cnn_or_skip("predict (extractor mismatch)") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut model: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo().join("examples/models/breeds-37.json")).unwrap(),
    )
    .unwrap();
    model["extractor"]["model"] = "vgg16-fc2".into();
    std::fs::write(
        dir.path().join("vgg.json"),
        serde_json::to_vec(&model).unwrap(),
    )
    .unwrap();
    let photo = repo().join("rust/paws-report/assets/DejaVuSans.ttf"); // never read
    let o = paws(
        &["predict", "--model", "vgg.json", photo.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let e = text(&o);
    assert!(
        e.contains("vgg.json")
            && e.contains("'vgg16-fc2'")
            && e.contains("'efficientnet-lite0-imagenet'"),
        "{e}"
    );
}

#[test]
fn predict_refuses_a_bad_model_file_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("m.json"),
        br#"{"format": "paws-breed-model/1"}"#,
    )
    .unwrap();
    let o = paws(&["predict", "--model", "m.json", "x.jpg"], dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let e = text(&o);
    assert!(e.contains("m.json") && e.contains("missing field"), "{e}");
}
