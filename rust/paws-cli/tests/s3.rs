//! `s3://` inputs and outputs of the `paws` binary against a real local S3 server
//! (moto's, from PyPI, see paws_testkit::moto: without it the test skips with a
//! message, unless PAWS_REQUIRE_MOTO=1 as in scripts/test.sh).
//!
//! One test function, one server: the scenarios run in order and share the bucket.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use paws_store::{S3Url, S3};
use paws_testkit::moto::{aws_env, free_port, set_aws_env, Moto};

fn paws_command(args: &[&str], endpoint: &str, home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_paws"));
    cmd.args(args);
    aws_env(&mut cmd, endpoint, home);
    cmd
}

fn timed(mut cmd: Command) -> (Output, Duration) {
    let t = Instant::now();
    let out = cmd.output().expect("run paws");
    (out, t.elapsed())
}

fn paws(args: &[&str], endpoint: &str, home: &Path) -> (Output, Duration) {
    timed(paws_command(args, endpoint, home))
}

/// `paws experiment --class Abyssinian --vs Bengal` on `features`, to `out`.
fn pair_command(features: &str, out: &str, endpoint: &str, home: &Path) -> Command {
    let args = [
        "experiment",
        "--features",
        features,
        "--class",
        "Abyssinian",
        "--vs",
        "Bengal",
        "-o",
        out,
    ];
    paws_command(&args, endpoint, home)
}

fn pair(features: &str, out: &str, endpoint: &str, home: &Path) -> (Output, Duration) {
    timed(pair_command(features, out, endpoint, home))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A failed run: exit status 1, one `paws: error:` line containing `needle`, and it
/// ended within `limit`.
fn assert_fails(run: &(Output, Duration), needle: &str, limit: Duration) {
    let (o, took) = run;
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("paws: error:") && err.contains(needle),
        "expected '{needle}' in: {err}"
    );
    assert!(*took < limit, "took {took:?} (limit {limit:?}): {err}");
}

/// The embedded sample's features.
fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/oxford-pets-sample/features.parquet")
}

/// results.csv without the seconds and engine columns (they differ between runs).
fn table_without_timing(csv: &str) -> Vec<Vec<String>> {
    let mut lines = csv
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>());
    let header = lines.next().expect("header");
    let keep: Vec<usize> = (0..header.len())
        .filter(|&i| header[i] != "seconds" && header[i] != "engine")
        .collect();
    std::iter::once(header.clone())
        .chain(lines)
        .map(|row| keep.iter().map(|&i| row[i].clone()).collect())
        .collect()
}

fn keys(s3: &S3, url: &str) -> Vec<String> {
    let url = S3Url::parse(url).unwrap();
    let prefix = url.prefix();
    s3.list(&url)
        .unwrap()
        .into_iter()
        .map(|o| o.url.key[prefix.len()..].to_string())
        .collect()
}

fn get(s3: &S3, url: &str, dir: &Path) -> String {
    let dest = dir.join("download");
    s3.download(&S3Url::parse(url).unwrap(), &dest).unwrap();
    std::fs::read_to_string(dest).unwrap()
}

fn put(s3: &S3, url: &str, file: &Path) {
    s3.upload_file(file, &S3Url::parse(url).unwrap()).unwrap();
}

#[test]
fn s3_inputs_and_outputs_against_a_local_s3_server() {
    let Some(moto) = Moto::start("paws-cli S3 tests") else {
        return;
    };
    let endpoint = moto.endpoint().to_string();
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    // This process's own client, in the same environment as the paws runs.
    set_aws_env(&endpoint, home.path());
    let s3 = S3::connect().expect("connect to moto");
    s3.block_on(s3.client().create_bucket().bucket("pets").send())
        .expect("create bucket");
    put(&s3, "s3://pets/features/sample.parquet", &sample());

    // 1. Features from S3, run to S3: the same table as a local run, every file
    //    uploaded, _SUCCESS last.
    let local_out = work.path().join("local");
    let local = paws(
        &[
            "experiment",
            "--features",
            sample().to_str().unwrap(),
            "--class",
            "american_bulldog",
            "--vs",
            "all",
            "-o",
            local_out.to_str().unwrap(),
        ],
        &endpoint,
        home.path(),
    );
    assert!(local.0.status.success(), "{}", stderr(&local.0));
    let run = paws(
        &[
            "experiment",
            "--features",
            "s3://pets/features/sample.parquet",
            "--class",
            "american_bulldog",
            "--vs",
            "all",
            "-o",
            "s3://pets/runs/r1/",
        ],
        &endpoint,
        home.path(),
    );
    assert!(run.0.status.success(), "{}", stderr(&run.0));
    let stdout = String::from_utf8_lossy(&run.0.stdout);
    assert!(
        stdout.contains("table: s3://pets/runs/r1/results.csv"),
        "{stdout}"
    );
    let mut uploaded = keys(&s3, "s3://pets/runs/r1/");
    uploaded.sort();
    assert_eq!(
        uploaded,
        [
            "_SUCCESS",
            "accuracy.png",
            "models/american_bulldog_vs_All.json",
            "paws.log",
            "results.csv",
            "results.json",
            "results.md"
        ]
    );
    let remote_csv = get(&s3, "s3://pets/runs/r1/results.csv", work.path());
    let local_csv = std::fs::read_to_string(local_out.join("results.csv")).unwrap();
    assert_eq!(
        table_without_timing(&remote_csv),
        table_without_timing(&local_csv)
    );

    // 2. A second run to the same prefix replaces the first: objects it does not write
    //    are gone.
    put(&s3, "s3://pets/runs/r1/models/stale.json", &sample());
    let again = pair(
        "s3://pets/features/sample.parquet",
        "s3://pets/runs/r1",
        &endpoint,
        home.path(),
    );
    assert!(again.0.status.success(), "{}", stderr(&again.0));
    let after = keys(&s3, "s3://pets/runs/r1/");
    assert!(after.contains(&"_SUCCESS".to_string()), "{after:?}");
    assert!(
        !after
            .iter()
            .any(|k| k.contains("stale") || k.contains("bulldog")),
        "{after:?}"
    );

    // 3. A Parquet folder without _SUCCESS is an unfinished run; with it, it is read.
    put(&s3, "s3://pets/parts/part-00000.parquet", &sample());
    assert_fails(
        &pair(
            "s3://pets/parts/",
            work.path().join("p").to_str().unwrap(),
            &endpoint,
            home.path(),
        ),
        "s3://pets/parts/: has no _SUCCESS object",
        Duration::from_secs(60),
    );
    s3.put_bytes(
        &S3Url::parse("s3://pets/parts/_SUCCESS").unwrap(),
        Vec::new(),
    )
    .unwrap();
    let parts = pair(
        "s3://pets/parts",
        work.path().join("p").to_str().unwrap(),
        &endpoint,
        home.path(),
    );
    assert!(parts.0.status.success(), "{}", stderr(&parts.0));

    // 4. Named errors, each within a bounded time.
    let limit = Duration::from_secs(60);
    let out_dir = work.path().join("e");
    let out = out_dir.to_str().unwrap();
    assert_fails(
        &pair("s3://no-such-bucket/f.parquet", out, &endpoint, home.path()),
        "bucket no-such-bucket does not exist",
        limit,
    );
    assert_fails(
        &pair("s3://pets/missing.parquet", out, &endpoint, home.path()),
        "s3://pets/missing.parquet: no such object",
        limit,
    );
    assert_fails(
        &paws(
            &["experiment", "-o", "s3://no-such-bucket/run/"],
            &endpoint,
            home.path(),
        ),
        "bucket no-such-bucket does not exist",
        limit,
    );
    assert!(!out_dir.exists(), "a failed run created {out}");
    // Keys that cannot name a local file: an output named `..` (it made the temporary
    // folder's parent the output), a listed key with a backslash.
    assert_fails(
        &paws(
            &["experiment", "-o", "s3://pets/runs/.."],
            &endpoint,
            home.path(),
        ),
        "s3://pets/runs/..: its last part cannot name a local file",
        limit,
    );
    put(&s3, "s3://pets/odd/a\\b.parquet", &sample());
    assert_fails(
        &pair("s3://pets/odd/", out, &endpoint, home.path()),
        "s3://pets/odd/a\\b.parquet: its last part cannot name a local file: it holds a backslash",
        limit,
    );
    let mut no_credentials = pair_command(
        "s3://pets/features/sample.parquet",
        out,
        &endpoint,
        home.path(),
    );
    no_credentials
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    assert_fails(&timed(no_credentials), "no AWS credentials found", limit);
    let closed = format!("http://127.0.0.1:{}", free_port());
    assert_fails(
        &pair(
            "s3://pets/features/sample.parquet",
            out,
            &closed,
            home.path(),
        ),
        &format!("cannot reach the S3 endpoint {closed}"),
        limit,
    );

    // 5. `paws convert` from an S3 folder of legacy JSON files to an S3 object.
    for (name, values) in [
        ("Bengal_1.jpg.json", "[1.0, 2.0]"),
        ("pug_1.jpg.json", "[3.0, 4.0]"),
    ] {
        s3.put_bytes(
            &S3Url::parse(&format!("s3://pets/legacy/{name}")).unwrap(),
            values.into(),
        )
        .unwrap();
    }
    let convert = paws(
        &[
            "convert",
            "s3://pets/legacy/",
            "s3://pets/converted/f.parquet",
        ],
        &endpoint,
        home.path(),
    );
    assert!(convert.0.status.success(), "{}", stderr(&convert.0));
    let converted = work.path().join("converted.parquet");
    s3.download(
        &S3Url::parse("s3://pets/converted/f.parquet").unwrap(),
        &converted,
    )
    .unwrap();
    let d = paws_core::data::parquet_io::read_parquet(&converted).unwrap();
    assert_eq!((d.len(), d.dim()), (2, 2));

    // 6. `paws extract` from S3 to S3, the model on S3 too (the tiny test model of
    //    paws-vision: features = channel means): the same features as a local run.
    let photos = work.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    for (name, rgb) in [
        ("Bengal_1.png", [255, 0, 0]),
        ("Bengal_2.png", [0, 255, 0]),
        ("pug_1.png", [0, 128, 255]),
    ] {
        let file = photos.join(name);
        image::RgbImage::from_pixel(40, 36, image::Rgb(rgb))
            .save(&file)
            .unwrap();
        put(&s3, &format!("s3://pets/photos/{name}"), &file);
    }
    let tiny =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../paws-vision/tests/fixtures/tiny.onnx");
    put(&s3, "s3://pets/models/tiny.onnx", &tiny);
    let extract = |images: &str, model: &str, out: &str| {
        let run = paws(
            &[
                "extract",
                images,
                "-o",
                out,
                "--model",
                model,
                "--input-size",
                "32",
                "--feature-output",
                "features",
                "--logits-output",
                "none",
            ],
            &endpoint,
            home.path(),
        );
        assert!(run.0.status.success(), "{}", stderr(&run.0));
    };
    let local_features = work.path().join("photos-local.parquet");
    extract(
        photos.to_str().unwrap(),
        tiny.to_str().unwrap(),
        local_features.to_str().unwrap(),
    );
    extract(
        "s3://pets/photos/",
        "s3://pets/models/tiny.onnx",
        "s3://pets/features/photos.parquet",
    );
    let remote_features = work.path().join("photos-remote.parquet");
    s3.download(
        &S3Url::parse("s3://pets/features/photos.parquet").unwrap(),
        &remote_features,
    )
    .unwrap();
    let read = |p: &Path| paws_core::data::parquet_io::read_parquet(p).unwrap();
    let (a, b) = (read(&local_features), read(&remote_features));
    assert_eq!((b.len(), b.dim()), (3, 3));
    assert_eq!(a.images(), b.images());
    for i in 0..a.len() {
        assert_eq!(a.row(i), b.row(i), "{}", a.images()[i]);
    }

    // 7. The server stops answering in the middle of a run (after the output bucket was
    //    checked and the features read, before the upload): a named error, exit 1 within
    //    the timeouts, and no _SUCCESS under the output prefix.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_paws"));
    cmd.args([
        "experiment",
        "--features",
        sample().to_str().unwrap(),
        "--all-pairs",
        "--splits",
        "0.1:0.9:0.01",
        "--iterations",
        "300",
        "-o",
        "s3://pets/runs/r2/",
    ]);
    aws_env(&mut cmd, &endpoint, home.path());
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut log = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        log.push_str(&line);
        log.push('\n');
        if line.contains("load:") {
            break;
        }
    }
    moto.pause();
    // The S3 calls start when training ends (its "phases:" log line): from then on the
    // run must end within the timeouts.
    let mut t = Instant::now();
    for line in lines {
        let line = line.unwrap();
        if line.contains("phases:") {
            t = Instant::now();
        }
        log.push_str(&line);
        log.push('\n');
    }
    let status = child.wait().unwrap();
    let took = t.elapsed();
    moto.resume();
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(log.contains("paws: error:") && log.contains("S3"), "{log}");
    assert!(took < Duration::from_secs(30), "took {took:?}: {log}");
    assert!(
        !keys(&s3, "s3://pets/runs/r2/").contains(&"_SUCCESS".to_string()),
        "{log}"
    );
}
