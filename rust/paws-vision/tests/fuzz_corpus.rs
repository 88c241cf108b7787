//! Replays the image fuzzer's corpus (rust/paws-fuzz/corpus/image) on stable, as part of
//! `cargo test`, through the fuzz target's entry point and checks.

use paws_testkit::fuzz::corpus;

const MAX_PIXELS: u64 = 1 << 22;

#[test]
fn image_corpus_decodes_within_the_bound_or_names_the_file() {
    let files = corpus("image");
    let mut ok = 0;
    for (path, data) in &files {
        match paws_vision::decode_bytes_within(data, path, MAX_PIXELS) {
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
