//! The fuzzers' committed corpora (`rust/paws-fuzz/corpus/<target>`), which each crate's
//! `fuzz_corpus` test replays on stable through the fuzz target's entry point.

use std::path::{Path, PathBuf};

/// The folder of `target`'s corpus.
pub fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../paws-fuzz/corpus")
        .join(target)
}

/// Every input of `target`'s corpus as (file, bytes), in name order; never empty (the
/// corpora are committed).
pub fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = corpus_dir(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            (f, bytes)
        })
        .collect()
}

/// One named input of `target`'s corpus (a seed or a regression).
pub fn seed(target: &str, name: &str) -> Vec<u8> {
    let path = corpus_dir(target).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
