//! Replays the image fuzzer's corpus (rust/paws-fuzz/corpus/image) on stable, as part of
//! `cargo test`, through the fuzz target's entry point and checks.

use std::path::{Path, PathBuf};

const MAX_PIXELS: u64 = 1 << 22;

#[test]
fn image_corpus_decodes_within_the_bound_or_names_the_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../paws-fuzz/corpus/image");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut ok = 0;
    for path in &files {
        let data = std::fs::read(path).unwrap();
        match paws_vision::decode_bytes_within(&data, path, MAX_PIXELS) {
            Ok(img) => {
                assert!(u64::from(img.width()) * u64::from(img.height()) <= MAX_PIXELS);
                ok += 1;
            }
            Err(e) => {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                assert!(e.to_string().contains(&name), "{}: {e}", path.display());
            }
        }
    }
    assert!(
        ok >= 5,
        "the corpus lost its valid images: {ok} of {} decode",
        files.len()
    );
}
