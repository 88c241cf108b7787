//! Tests that need what a user's clone may lack (the CNN, `../shared`'s photos) print a
//! visible `SKIPPED:` line and pass, unless the run requires it.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes to the real stderr, past the test harness's capture, so that skips show.
pub fn say(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// `model` if it is a file; else `None` after printing why, or a panic under
/// `PAWS_REQUIRE_MODEL=1` (scripts/test.sh, which fetched the model first).
pub fn model_or_skip(test: &str, model: &Path) -> Option<PathBuf> {
    if model.is_file() {
        return Some(model.to_path_buf());
    }
    let msg = format!(
        "{test}: model {} not found (run scripts/fetch-model.sh or set PAWS_MODEL)",
        model.display()
    );
    if std::env::var("PAWS_REQUIRE_MODEL").as_deref() == Ok("1") {
        panic!("{msg}; PAWS_REQUIRE_MODEL=1 requires it");
    }
    say(&format!("SKIPPED: {msg}"));
    None
}
