//! Faults survived with nothing lost: `paws experiment` and `paws extract` killed with
//! SIGKILL at pseudo-random moments, and run out of disk space on a small tmpfs.
//!
//! What must hold: a final name (`-o DIR` for experiment, `-o FILE` for extract) is
//! either absent or holds a complete output, never a partial one; a full disk is a named
//! error with a non-zero exit, and the previous complete run stays where it was.

mod common;

use common::{cnn_or_skip, say, text};
use paws_core::data::dataset::Extractor;
use paws_core::data::parquet_io::{read_parquet, write_parquet};
use paws_core::Dataset;
use paws_testkit::rng::XorShift;
use paws_testkit::tree;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TRIALS: u64 = 20;

/// Three breeds of `per` rows and `dim` features, enough for a run of a few tenths of
/// a second.
fn features(dir: &Path, per: usize, dim: usize) -> PathBuf {
    let mut r = XorShift::new(0x2545f4914f6cdd1d);
    let mut rnd = || r.unit_f32();
    let (mut f, mut images, mut labels) = (Vec::new(), Vec::new(), Vec::new());
    for (b, breed) in ["Bengal", "beagle", "pug"].iter().enumerate() {
        for i in 0..per {
            f.extend((0..dim).map(|j| rnd() + if j % 3 == b { 1.0 } else { 0.0 }));
            images.push(format!("{breed}_{i}.jpg"));
            labels.push(breed.to_string());
        }
    }
    let ext = Extractor {
        model: "synthetic".into(),
        dim,
    };
    let d = Dataset::new(dim, f, images, labels, ext, "synthetic").unwrap();
    let path = dir.join("features.parquet");
    write_parquet(&path, &d).unwrap();
    path
}

/// Fractions of a run's length in `0..1`, the same in every run (an xorshift, seeded).
fn fractions(n: u64) -> Vec<f64> {
    let mut r = XorShift::new(0x9e3779b97f4a7c15);
    (0..n).map(|_| r.unit_f64()).collect()
}

/// Starts `paws args` in `cwd`, kills it with SIGKILL after `after` (if still running).
/// `Ok` when the kill landed before it exited, else how long the run took.
fn kill_after(args: &[String], cwd: &Path, after: Duration) -> Result<(), Duration> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_paws"))
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start paws");
    let start = Instant::now();
    while start.elapsed() < after {
        if child.try_wait().unwrap().is_some() {
            return Err(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    match status.code() {
        None => Ok(()),
        Some(_) => Err(start.elapsed()),
    }
}

/// Runs `paws args` in `cwd` undisturbed (it must succeed) and returns how long it took.
fn reference_run(args: &[String], cwd: &Path) -> Duration {
    let t0 = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_paws"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    t0.elapsed()
}

/// [`TRIALS`] runs of `paws trial(k)` in `cwd` (`trial` also prepares run k), each killed
/// at a seeded fraction of the span and then checked by `check(k)`; says how many kills
/// landed inside a run, and fails when fewer than half did. The span starts at 1.2 ×
/// `run` (the reference run) and shrinks to the length of any run that ended before its
/// kill: on a busy machine the reference run, the first, can take twice as long as the
/// later ones (cold files), and kills drawn from its length then mostly land too late.
fn kill_trials(
    test: &str,
    cwd: &Path,
    run: Duration,
    mut trial: impl FnMut(u64) -> Vec<String>,
    mut check: impl FnMut(u64),
) {
    let mut killed = 0;
    let mut span = run.mul_f64(1.2);
    for (k, f) in fractions(TRIALS).into_iter().enumerate() {
        let k = k as u64;
        match kill_after(&trial(k), cwd, span.mul_f64(f)) {
            Ok(()) => killed += 1,
            Err(took) => span = span.min(took),
        }
        check(k);
    }
    say(&format!(
        "{test}: {killed} of {TRIALS} runs killed before they ended (the reference run took {:.0} ms; \
         kills drawn within {:.0} ms at the end)",
        run.as_secs_f64() * 1000.0,
        span.as_secs_f64() * 1000.0
    ));
    assert!(
        killed >= TRIALS / 2,
        "only {killed} kills landed inside a run"
    );
}

/// The relative paths of the files under `dir`.
fn files(dir: &Path) -> Vec<String> {
    tree::files(dir)
        .iter()
        .map(|p| p.display().to_string())
        .collect()
}

/// A complete experiment output: the reference run's files, each whole.
fn assert_complete_experiment(out: &Path, reference: &[String], trial: u64) {
    assert_eq!(files(out), reference, "trial {trial}: {}", out.display());
    for f in reference {
        let bytes = std::fs::read(out.join(f)).unwrap();
        assert!(!bytes.is_empty(), "trial {trial}: {f} is empty");
        if f.ends_with(".json") {
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .unwrap_or_else(|e| panic!("trial {trial}: {f}: {e}"));
        }
        if f.ends_with(".png") {
            assert!(
                bytes.starts_with(b"\x89PNG") && bytes.ends_with(b"IEND\xaeB`\x82"),
                "trial {trial}: {f} is not a whole PNG"
            );
        }
    }
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 9 * 2, "trial {trial}: results.csv");
}

#[test]
fn a_killed_experiment_never_leaves_a_partial_output() {
    let dir = tempfile::tempdir().unwrap();
    let f = features(dir.path(), 300, 256);
    let f = f.to_str().unwrap();
    let args = |out: &str| -> Vec<String> {
        ["experiment", "--features", f, "--class", "Bengal", "--vs"]
            .iter()
            .map(|s| s.to_string())
            .chain(["beagle,pug".into(), "-o".into(), out.into()])
            .collect()
    };
    // An undisturbed run: its files are what a complete output holds, and its length
    // spans the kills.
    let run = reference_run(&args("reference"), dir.path());
    let reference = files(&dir.path().join("reference"));
    assert!(
        reference.contains(&"results.csv".to_string()),
        "{reference:?}"
    );

    let out = |trial: u64| format!("out-{trial}");
    let prepare = |trial: u64| {
        // Half the trials replace a previous complete run, half write a new folder.
        if trial % 2 == 1 {
            tree::copy(&dir.path().join("reference"), &dir.path().join(out(trial)));
        }
        args(&out(trial))
    };
    let check = |trial: u64| {
        let target = dir.path().join(out(trial));
        let old = aside(dir.path(), &out(trial));
        if target.exists() {
            assert_complete_experiment(&target, &reference, trial);
        } else if trial % 2 == 1 {
            // Killed between publishing's two renames: the previous run is whole, aside.
            let old = old.unwrap_or_else(|| {
                panic!(
                    "trial {trial}: {} and its previous run are gone",
                    out(trial)
                )
            });
            assert_complete_experiment(&old, &reference, trial);
        } else {
            assert!(
                old.is_none(),
                "trial {trial}: a run aside, but none was there"
            );
        }
    };
    kill_trials(
        "a_killed_experiment_never_leaves_a_partial_output",
        dir.path(),
        run,
        prepare,
        check,
    );
}

/// `DIR.old-<pid>` of `out`, where publishing renames a previous run aside.
fn aside(dir: &Path, out: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{out}.old-"))
        })
}

/// Writes `n` small photos (PNG) of two breeds into `dir`.
fn photos(dir: &Path, n: u32) {
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..n {
        let breed = if i % 2 == 0 { "Bengal" } else { "pug" };
        let img = image::RgbImage::from_fn(96, 80, |x, y| {
            image::Rgb([(x * 3 + i) as u8, (y * 5) as u8, ((x + y) * i) as u8])
        });
        img.save(dir.join(format!("{breed}_{i}.png"))).unwrap();
    }
}

#[test]
fn a_killed_extract_never_leaves_a_partial_parquet() {
    let Some(model) = cnn_or_skip("a_killed_extract_never_leaves_a_partial_parquet") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    photos(&dir.path().join("photos"), 24);
    let model = model.to_str().unwrap().to_string();
    let run = |out: &str| {
        vec![
            "extract".to_string(),
            "photos".into(),
            "-o".into(),
            out.into(),
            "--model".into(),
            model.clone(),
        ]
    };
    let time = reference_run(&run("reference.parquet"), dir.path());
    let reference = read_parquet(&dir.path().join("reference.parquet")).unwrap();

    let out = |trial: u64| dir.path().join(format!("out-{trial}.parquet"));
    let check = |trial: u64| {
        if out(trial).exists() {
            let d = read_parquet(&out(trial)).unwrap_or_else(|e| panic!("trial {trial}: {e}"));
            assert_eq!(d.images(), reference.images(), "trial {trial}");
            assert_eq!(d.features(), reference.features(), "trial {trial}");
        }
    };
    kill_trials(
        "a_killed_extract_never_leaves_a_partial_parquet",
        dir.path(),
        time,
        |trial| run(out(trial).to_str().unwrap()),
        check,
    );
    // Whatever was left behind is a hidden temporary file, never a visible one.
    for e in std::fs::read_dir(dir.path()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            name.starts_with('.') || name == "photos" || name.ends_with(".parquet"),
            "{name}"
        );
    }
}

/// Runs `paws args` in `cwd` with `cwd/small` a tmpfs of `kib` KiB that starts with a
/// copy of `cwd/small-seed`, in a private mount namespace (`unshare -Urm`: no root needed
/// where user namespaces are allowed; the tmpfs goes with the namespace). Returns the
/// output and, on stdout after paws' own, `sha256sum` lines of every file left in the
/// tmpfs. None (after saying why) where a namespace is not allowed.
fn paws_on_small_disk(args: &[&str], cwd: &Path, kib: u64) -> Option<std::process::Output> {
    let probe = Command::new("unshare")
        .args(["-Urm", "true"])
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        say("SKIPPED: a_full_disk_is_a_named_error_and_the_previous_run_stays: `unshare -Urm` (a user and mount namespace) is not allowed here");
        return None;
    }
    std::fs::create_dir_all(cwd.join("small")).unwrap();
    let script = format!(
        "set -e; mount -t tmpfs -o size={kib}k tmpfs small; cp -a small-seed/. small/; set +e; \
         \"$0\" \"$@\"; rc=$?; echo '--- left in small:'; \
         (cd small && find . -type f -print0 | sort -z | xargs -0 sha256sum); exit $rc"
    );
    let out = Command::new("unshare")
        .args(["-Urm", "sh", "-c", &script, env!("CARGO_BIN_EXE_paws")])
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    Some(out)
}

/// `sha256sum` lines of every file under `dir`, as [`paws_on_small_disk`] lists them.
fn sums(dir: &Path) -> String {
    let o = Command::new("sh")
        .args([
            "-c",
            "find . -type f -print0 | sort -z | xargs -0 sha256sum",
        ])
        .current_dir(dir)
        .output()
        .unwrap();
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn a_full_disk_is_a_named_error_and_the_previous_run_stays() {
    let dir = tempfile::tempdir().unwrap();
    let f = features(dir.path(), 120, 64);
    let f = f.to_str().unwrap();
    let base = [
        "experiment",
        "--features",
        f,
        "--class",
        "Bengal",
        "--vs",
        "all",
    ];
    // The previous complete run, which the tmpfs starts with.
    let seed = dir.path().join("small-seed");
    std::fs::create_dir_all(&seed).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_paws"))
        .args(base)
        .args(["--splits", "0.5", "-o", seed.join("out").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let before = sums(&seed);
    let used: u64 = files(&seed)
        .iter()
        .map(|p| std::fs::metadata(seed.join(p)).unwrap().len())
        .sum();

    // Room for the previous run and a little more: the new one (9 splits, 9 models)
    // does not fit.
    let args = [
        base.as_slice(),
        &["--splits", "0.1:0.9:0.1", "-o", "small/out"],
    ]
    .concat();
    let Some(o) = paws_on_small_disk(&args, dir.path(), used / 1024 + 40) else {
        return;
    };
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert_eq!(
        String::from_utf8_lossy(&o.stderr)
            .matches("paws: error:")
            .count(),
        1,
        "{t}"
    );
    assert!(t.contains("No space left on device"), "{t}");
    assert!(t.contains("small/out"), "the error names the output: {t}");
    // Left in the tmpfs: the previous run, byte for byte, and at most the failed run's
    // log beside it (when it fitted); no temporary folder, no piece of the new run.
    let stdout = String::from_utf8_lossy(&o.stdout);
    let left = stdout
        .split("--- left in small:\n")
        .nth(1)
        .unwrap_or_default();
    let left: String = left
        .lines()
        .filter(|l| !l.ends_with("./out.failed.log"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(left, before, "{t}");
}
