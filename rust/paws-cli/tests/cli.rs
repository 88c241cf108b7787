//! The `paws` binary end to end: outputs, exit codes and error messages.

use paws_core::data::dataset::Extractor;
use paws_core::data::parquet_io::write_parquet;
use paws_core::experiment::saved_model::SavedModel;
use paws_core::Dataset;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn paws(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_paws"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run paws")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Three well-separated breeds with a few noisy dimensions, seeded.
fn synthetic(dir: &Path) -> PathBuf {
    synthetic_with(
        dir,
        &[("Bengal", 40), ("beagle", 40), ("pug", 40)],
        "features.parquet",
    )
}

/// Well-separated breeds with the given numbers of rows, seeded.
fn synthetic_with(dir: &Path, breeds: &[(&str, usize)], name: &str) -> PathBuf {
    let dim = 12;
    let mut r = paws_testkit::rng::XorShift::new(0x9e3779b97f4a7c15);
    let mut rnd = || r.unit_f32();
    let (mut f, mut images, mut labels) = (Vec::new(), Vec::new(), Vec::new());
    for (b, &(breed, per)) in breeds.iter().enumerate() {
        for i in 0..per {
            for j in 0..dim {
                f.push(rnd() + if j % 3 == b { 1.5 } else { 0.0 });
            }
            images.push(format!("{breed}_{i}.jpg"));
            labels.push(breed.to_string());
        }
    }
    let d = Dataset::new(
        dim,
        f,
        images,
        labels,
        Extractor {
            model: "synthetic".into(),
            dim,
        },
        "synthetic",
    )
    .unwrap();
    let path = dir.join(name);
    write_parquet(&path, &d).unwrap();
    path
}

/// Every file under `dir` with its bytes, by relative path.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    paws_testkit::tree::files(dir)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(dir.join(&p)).unwrap();
            (p, bytes)
        })
        .collect()
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The error style: one `paws: error:` line on stderr.
fn assert_one_error(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "{}", text(o));
    assert_eq!(
        stderr(o).matches("paws: error:").count(),
        1,
        "{}",
        stderr(o)
    );
}

/// `paws experiment --features F --class C --vs V` and then `extra`.
fn experiment_with(features: &Path, class: &str, vs: &str, extra: &[&str], cwd: &Path) -> Output {
    let f = features.to_str().unwrap();
    let args = [
        &["experiment", "--features", f, "--class", class, "--vs", vs][..],
        extra,
    ]
    .concat();
    paws(&args, cwd)
}

fn experiment(features: &Path, class: &str, vs: &str, out: &str, cwd: &Path) -> Output {
    experiment_with(features, class, vs, &["--splits", "0.5", "-o", out], cwd)
}

#[test]
fn a_failed_run_leaves_the_previous_output_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let features = synthetic(dir.path());
    let o = experiment(&features, "Bengal", "pug", "out", dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let out = dir.path().join("out");
    let before = snapshot(&out);
    assert!(before.iter().any(|(p, _)| p == Path::new("paws.log")));

    let o = experiment(&features, "Bengal", "unicorn", "out", dir.path());
    assert_one_error(&o, 1);
    assert!(
        stderr(&o).contains("unknown class 'unicorn'"),
        "{}",
        text(&o)
    );
    assert_eq!(snapshot(&out), before, "the previous run is untouched");
    assert_eq!(
        names(dir.path()),
        ["features.parquet", "out", "out.failed.log"]
    );
    let log = std::fs::read_to_string(dir.path().join("out.failed.log")).unwrap();
    assert!(
        log.contains("load: 120 rows") && log.contains("paws: error: ") && log.contains("unicorn"),
        "{log}"
    );

    // A later successful run replaces the folder whole and drops the failed log.
    let o = experiment(&features, "Bengal", "beagle", "out", dir.path());
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(names(dir.path()), ["features.parquet", "out"]);
    assert!(out.join("models/Bengal_vs_beagle.json").exists());
    assert!(!out.join("models/Bengal_vs_pug.json").exists());
}

#[test]
fn unwritable_models_or_output_fail_before_anything_is_published() {
    let dir = tempfile::tempdir().unwrap();
    let features = synthetic(dir.path());
    let o = experiment(&features, "Bengal", "pug", "out", dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let out = dir.path().join("out");
    let before = snapshot(&out);

    // The model's file name is longer than any file system allows: the tables and the
    // plot are written, models/ is not, and nothing is published.
    let (long1, long2) = ("a".repeat(200), "b".repeat(100));
    let long = synthetic_with(dir.path(), &[(&long1, 20), (&long2, 20)], "long.parquet");
    let o = experiment(&long, &long1, &long2, "out", dir.path());
    assert_one_error(&o, 1);
    assert!(stderr(&o).contains("models/"), "{}", text(&o));
    assert_eq!(snapshot(&out), before);
    assert_eq!(
        names(dir.path()),
        ["features.parquet", "long.parquet", "out", "out.failed.log"]
    );

    // An output folder that cannot be created fails before the features are read.
    std::fs::write(dir.path().join("file"), "x").unwrap();
    for bad in ["file/out", "missing/out", "file"] {
        let o = experiment(&features, "Bengal", "pug", bad, dir.path());
        assert_one_error(&o, 1);
        let t = stderr(&o);
        assert!(t.contains(bad) && !t.contains("load:"), "{t}");
    }
    assert!(!dir.path().join("missing").exists());
}

#[test]
fn a_class_without_training_rows_is_an_error_naming_it_and_the_split() {
    let dir = tempfile::tempdir().unwrap();
    let features = synthetic_with(dir.path(), &[("Bengal", 40), ("pug", 3)], "f.parquet");
    let o = experiment_with(
        &features,
        "Bengal",
        "pug",
        &["--splits", "0.5,0.1", "-o", "out"],
        dir.path(),
    );
    assert_one_error(&o, 1);
    let t = stderr(&o);
    assert!(
        t.contains("'pug' has no training rows at split 0.1") && !t.contains("phases:"),
        "{t}"
    );
    assert_eq!(names(dir.path()), ["f.parquet", "out.failed.log"]);
}

#[test]
fn usage_errors_exit_2_and_checked_values_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let features = synthetic(dir.path());
    let o = paws(&["experiment", "--bogus"], dir.path());
    assert_one_error(&o, 2);
    assert!(
        stderr(&o).starts_with("paws: error: unexpected argument '--bogus'"),
        "{}",
        stderr(&o)
    );
    for (option, mllib) in [("--step-size", "stepSize"), ("--reg-param", "regParam")] {
        let o = experiment_with(&features, "Bengal", "pug", &[option, "-1"], dir.path());
        assert_one_error(&o, 1);
        assert!(
            stderr(&o).contains(&format!("paws: error: invalid argument: {option}: {mllib}")),
            "{}",
            stderr(&o)
        );
    }
    assert_eq!(names(dir.path()), ["features.parquet"]);
    let o = paws(&["experiment", "--help"], dir.path());
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(
        help.contains("Exit status") && help.contains("Regularisation parameter (MLlib regParam)"),
        "{help}"
    );
}

#[test]
fn extract_to_a_missing_folder_fails_before_decoding_any_image() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    std::fs::create_dir(&images).unwrap();
    std::fs::write(images.join("Bengal_1.jpg"), "not a picture").unwrap();
    let o = paws(
        &[
            "extract",
            "images",
            "-o",
            "missing/dir/x.parquet",
            "--model",
            "no-model.onnx",
        ],
        dir.path(),
    );
    assert_one_error(&o, 1);
    let t = stderr(&o);
    // The output is checked first: not the model, not an image.
    assert!(
        t.contains("missing/dir/x.parquet") && t.contains("does not exist"),
        "{t}"
    );
    assert!(
        !t.contains("no-model") && !t.contains("Bengal_1") && !t.contains("extract:"),
        "{t}"
    );
    assert!(!dir.path().join("missing").exists());
}

/// The `paws.extractor.backend` entry of a Parquet file's key/value metadata.
fn backend_metadata(path: &Path) -> Option<String> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let kv = reader.metadata().file_metadata().key_value_metadata()?;
    kv.iter()
        .find(|e| e.key == paws_core::data::parquet_io::META_BACKEND)
        .and_then(|e| e.value.clone())
}

#[test]
fn extract_records_its_backend_and_names_a_bad_onnxruntime_library() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    std::fs::create_dir(&images).unwrap();
    for (name, c) in [
        ("Bengal_1.png", [200, 40, 40]),
        ("pug_1.png", [30, 90, 220]),
    ] {
        image::RgbImage::from_pixel(40, 30, image::Rgb(c))
            .save(images.join(name))
            .unwrap();
    }
    let tiny =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../paws-vision/tests/fixtures/tiny.onnx");
    let tiny = tiny.to_str().unwrap();
    let extract = |out: &str, more: &[&str]| {
        let mut args = vec![
            "extract",
            "images",
            "-o",
            out,
            "--model",
            tiny,
            "--input-size",
            "32",
        ];
        args.extend_from_slice(more);
        paws(&args, dir.path())
    };
    let o = extract("t.parquet", &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        backend_metadata(&dir.path().join("t.parquet")).as_deref(),
        Some("tract")
    );

    let o = extract(
        "o.parquet",
        &[
            "--backend",
            "onnxruntime",
            "--onnxruntime-lib",
            "/nonexistent/libonnxruntime.so.1.32.0",
        ],
    );
    assert_one_error(&o, 1);
    let t = stderr(&o);
    assert!(
        t.contains("/nonexistent/libonnxruntime.so.1.32.0: cannot load onnxruntime: no such file"),
        "{t}"
    );
    assert!(!dir.path().join("o.parquet").exists());

    // With the library (scripts/test.sh exports it): the same features, another backend.
    let Some(lib) = std::env::var("ORT_DYLIB_PATH")
        .ok()
        .filter(|p| !p.is_empty())
    else {
        paws_testkit::skip::say(
            "SKIPPED: extract --backend onnxruntime: ORT_DYLIB_PATH is not set (the tract half ran)",
        );
        return;
    };
    let o = extract(
        "o.parquet",
        &["--backend", "onnxruntime", "--onnxruntime-lib", &lib],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o_path = dir.path().join("o.parquet");
    assert_eq!(backend_metadata(&o_path).as_deref(), Some("onnxruntime"));
    let read = paws_core::data::parquet_io::read_parquet;
    let (t, o) = (
        read(&dir.path().join("t.parquet")).unwrap(),
        read(&o_path).unwrap(),
    );
    assert_eq!((o.len(), o.dim(), o.images()), (2, 3, t.images()));
    for (a, b) in t.features().iter().zip(o.features()) {
        assert!(
            (a - b).abs() <= 1e-5,
            "{:?} vs {:?}",
            t.features(),
            o.features()
        );
    }
}

#[test]
fn experiment_writes_table_plot_models_and_log() {
    let dir = tempfile::tempdir().unwrap();
    let features = synthetic(dir.path());
    let o = paws(
        &[
            "experiment",
            "--features",
            features.to_str().unwrap(),
            "--class",
            "Bengal",
            "--vs",
            "beagle,pug",
            "--splits",
            "0.2:0.8:0.3",
            "-o",
            "out",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = dir.path().join("out");
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with(
        "class1,class2,split,iterations,num_model,predict_pct,nb_train,nb_test,nb_correct"
    ));
    assert_eq!(lines.len(), 1 + 2 * 3, "{csv}");
    assert!(
        lines[1].starts_with("Bengal,beagle,0.2,100,1,"),
        "{}",
        lines[1]
    );
    // Stratified: 0.2 of 40 + 0.2 of 40 rows train, the rest test.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(json[0]["nb_train"], 16);
    assert_eq!(json[0]["nb_test"], 64);
    assert_eq!(json[0]["engine"], "paws-cli");
    // Separable data: the models are real classifiers.
    assert!(
        json.as_array()
            .unwrap()
            .iter()
            .all(|r| r["predict_pct"].as_f64().unwrap() > 90.0),
        "{json}"
    );
    assert!(std::fs::read(out.join("accuracy.png"))
        .unwrap()
        .starts_with(b"\x89PNG"));
    assert!(std::fs::read_to_string(out.join("results.md"))
        .unwrap()
        .contains("| Bengal | pug |"));
    let log = std::fs::read_to_string(out.join("paws.log")).unwrap();
    assert!(
        log.contains("phases: split") && log.contains("load: 120 rows"),
        "{log}"
    );
    for other in ["beagle", "pug"] {
        let m = SavedModel::load(&out.join(format!("models/Bengal_vs_{other}.json"))).unwrap();
        assert_eq!(m.feature_dim, 12);
        assert_eq!(m.extractor.model, "synthetic");
        assert_eq!(m.negative_classes, vec![other.to_string()]);
        assert!(m.training.test_accuracy > 0.9);
    }
}

#[test]
fn one_against_all_and_all_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let features = synthetic(dir.path());
    let f = features.to_str().unwrap();
    let o = paws(
        &[
            "experiment",
            "--features",
            f,
            "--class",
            "pug",
            "--vs",
            "all",
            "--splits",
            "0.5",
            "-o",
            "a",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let csv = std::fs::read_to_string(dir.path().join("a/results.csv")).unwrap();
    assert!(
        csv.lines().nth(1).unwrap().starts_with("pug,All,0.5,"),
        "{csv}"
    );
    assert!(dir.path().join("a/models/pug_vs_All.json").exists());

    let o = paws(
        &[
            "experiment",
            "--features",
            f,
            "--all-pairs",
            "--splits",
            "0.5",
            "--model",
            "logistic",
            "-o",
            "b",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let csv = std::fs::read_to_string(dir.path().join("b/results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 3, "{csv}");
}

#[test]
fn same_seed_same_table_other_seed_other_splits() {
    let dir = tempfile::tempdir().unwrap();
    let features = synthetic(dir.path());
    let f = features.to_str().unwrap();
    let run = |seed: &str, out: &str| {
        let o = paws(
            &[
                "experiment",
                "--features",
                f,
                "--class",
                "Bengal",
                "--vs",
                "beagle",
                "--seed",
                seed,
                "-o",
                out,
            ],
            dir.path(),
        );
        assert!(o.status.success(), "{}", text(&o));
        let v: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(out).join("results.json")).unwrap(),
        )
        .unwrap();
        let m = std::fs::read_to_string(dir.path().join(out).join("models/Bengal_vs_beagle.json"))
            .unwrap();
        let m: serde_json::Value = serde_json::from_str(&m).unwrap();
        (
            v.as_array()
                .unwrap()
                .iter()
                .map(|r| r["nb_correct"].as_u64().unwrap())
                .collect::<Vec<_>>(),
            m["model"]["weights"].clone(),
        )
    };
    let (a, wa) = run("7", "s1");
    let (b, wb) = run("7", "s2");
    assert_eq!((a, wa.clone()), (b, wb));
    let (_, wc) = run("8", "s3");
    assert_ne!(wa, wc);
}

#[test]
fn unknown_class_exits_non_zero_and_lists_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let features = synthetic(dir.path());
    let o = paws(
        &[
            "experiment",
            "--features",
            features.to_str().unwrap(),
            "--class",
            "Bengal",
            "--vs",
            "unicorn",
            "-o",
            "out",
        ],
        dir.path(),
    );
    assert!(!o.status.success());
    let t = text(&o);
    assert!(
        t.contains("unknown class 'unicorn'") && t.contains("Bengal, beagle, pug"),
        "{t}"
    );
    assert!(!dir.path().join("out").exists());
    let o = paws(
        &[
            "experiment",
            "--features",
            features.to_str().unwrap(),
            "--class",
            "Persian",
            "--vs",
            "all",
        ],
        dir.path(),
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("'Persian' has no rows"), "{}", text(&o));
}

#[test]
fn convert_reads_legacy_json_and_reports_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = dir.path().join("legacy");
    std::fs::create_dir(&legacy).unwrap();
    std::fs::write(legacy.join("Bengal_1.jpg.json"), "[1.0, 2.0]").unwrap();
    std::fs::write(legacy.join("pug_1.jpg.json"), "[3.0, 4.0]").unwrap();
    let o = paws(&["convert", "legacy", "f.parquet"], dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let d = paws_core::data::parquet_io::read_parquet(&dir.path().join("f.parquet")).unwrap();
    assert_eq!(
        (d.len(), d.dim(), d.extractor().model.as_str()),
        (2, 2, "vgg16-fc2")
    );

    std::fs::write(legacy.join("pug_2.jpg.json"), "[3.0, NaN]").unwrap();
    let o = paws(&["convert", "legacy", "g.parquet"], dir.path());
    assert!(!o.status.success());
    assert!(
        text(&o).contains("pug_2.jpg.json") && text(&o).contains("feature index 1"),
        "{}",
        text(&o)
    );
    assert!(!dir.path().join("g.parquet").exists());
}

#[test]
fn bad_arguments_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let features = synthetic(dir.path());
    let f = features.to_str().unwrap();
    let o = paws(
        &[
            "experiment",
            "--features",
            f,
            "--class",
            "Bengal",
            "--vs",
            "pug",
            "--splits",
            "0.5:1.2:0.5",
        ],
        dir.path(),
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("--splits") && text(&o).contains("1"),
        "{}",
        text(&o)
    );
    let o = paws(
        &[
            "experiment",
            "--features",
            f,
            "--class",
            "Bengal",
            "--vs",
            "pug",
            "--mini-batch-fraction",
            "0",
        ],
        dir.path(),
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("miniBatchFraction"), "{}", text(&o));
    let o = paws(
        &[
            "experiment",
            "--features",
            "missing.parquet",
            "--class",
            "Bengal",
            "--vs",
            "pug",
        ],
        dir.path(),
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("missing.parquet"), "{}", text(&o));
}

#[test]
fn the_main_job_runs_on_the_embedded_sample() {
    let embedded = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/oxford-pets-sample/features.parquet");
    assert!(
        embedded.exists(),
        "the embedded sample must be committed at {}",
        embedded.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let o = paws(&["experiment", "-o", "out"], dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/results.json")).unwrap(),
    )
    .unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 18);
    assert!(rows[..9]
        .iter()
        .all(|r| r["class1"] == "Abyssinian" && r["class2"] == "Bengal"));
    assert!(rows[9..]
        .iter()
        .all(|r| r["class1"] == "american_bulldog" && r["class2"] == "All"));
    // EfficientNet features separate these breeds well above chance.
    let mid = &rows[4];
    assert!(mid["predict_pct"].as_f64().unwrap() > 80.0, "{mid}");
    assert!(dir
        .path()
        .join("out/models/Abyssinian_vs_Bengal.json")
        .exists());
    assert!(dir
        .path()
        .join("out/models/american_bulldog_vs_All.json")
        .exists());
}

/// The parquet fuzzer's footer that declares 1.1 billion schema children: the `parquet`
/// crate reserved 8.9 GB for them, and under an address-space limit (an executor's
/// container, `ulimit -v`) the failed allocation aborted the process. Run here under a
/// 2 GB limit: one named error and exit 1, not an abort (134).
#[test]
fn a_footer_declaring_a_billion_children_is_an_error_under_a_memory_limit() {
    let dir = tempfile::tempdir().unwrap();
    let features = dir.path().join("declares-a-billion.parquet");
    std::fs::write(
        &features,
        paws_testkit::fuzz::seed("parquet", "oom-schema-num-children"),
    )
    .unwrap();
    let o = Command::new("bash")
        .args(["-c", r#"ulimit -v 2000000 && exec "$@""#, "bash"])
        .arg(env!("CARGO_BIN_EXE_paws"))
        .args(["experiment", "--features"])
        .arg(&features)
        .args(["--class", "a", "--vs", "b", "-o", "out"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_one_error(&o, 1);
    let err = stderr(&o);
    assert!(err.contains("declares-a-billion.parquet"), "{err}");
    assert!(
        err.contains("corrupt footer: schema element 4 declares 1116015124 children"),
        "{err}"
    );
    assert!(!dir.path().join("out").exists());
}
