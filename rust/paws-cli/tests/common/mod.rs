//! Helpers shared by the test files that run `paws` on the CNN and real photos.
#![allow(dead_code)] // each test file uses a part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn paws(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_paws"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run paws")
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub use paws_testkit::skip::say;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The default CNN, or `None` (after printing why) when it is missing and not required.
pub fn cnn_or_skip(test: &str) -> Option<PathBuf> {
    paws_testkit::skip::model_or_skip(test, &paws_vision::default_model_path())
}

/// `../shared/data/<name>/images`, or `None` (after printing why).
pub fn photos_or_skip(test: &str, name: &str) -> Option<PathBuf> {
    let dir = repo().join("../shared/data").join(name).join("images");
    if dir.is_dir() {
        return Some(dir);
    }
    say(&format!(
        "SKIPPED: {test}: {} not found (the photos live beside the repository)",
        dir.display()
    ));
    None
}
