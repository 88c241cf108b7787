//! Replays the `upload` fuzzer's corpus (`rust/paws-fuzz/corpus/upload`) on stable, as
//! part of `cargo test`, through the fuzz target's entry point and checks
//! (`paws_serve::fuzzing::upload`); the seeds also pin what a form, a raw body and the
//! usual mistakes give.

use paws_serve::fuzzing::{upload, Answer};
use paws_testkit::fuzz::{corpus, seed};

fn seed_answer(name: &str) -> Answer {
    upload(&seed("upload", name))
}

#[test]
fn upload_corpus_gives_the_photo_or_a_4xx_with_a_message() {
    let (mut ok, mut refused) = (0, 0);
    for (_, data) in corpus("upload") {
        match upload(&data) {
            Ok(_) => ok += 1,
            Err(_) => refused += 1,
        }
    }
    assert!(ok > 0 && refused > 0, "{ok} accepted, {refused} refused");
}

#[test]
fn the_seeds_give_what_a_client_expects() {
    let (bytes, name) = seed_answer("seed-form-image").unwrap();
    assert_eq!(
        (&bytes[..3], name.as_str()),
        (&[0xff, 0xd8, 0xff][..], "cat.jpg")
    );
    let (bytes, name) = seed_answer("seed-form-two-fields").unwrap();
    assert_eq!((&bytes[..4], name.as_str()), (&b"\x89PNG"[..], "dog.png"));
    let (bytes, name) = seed_answer("seed-raw-jpeg").unwrap();
    assert_eq!(
        (&bytes[..3], name.as_str()),
        (&[0xff, 0xd8, 0xff][..], "upload")
    );

    let refused = |name: &str| seed_answer(name).expect_err(name);
    let (status, message) = refused("seed-form-no-image");
    assert_eq!(status, 400);
    assert!(message.contains("no field named \"image\""), "{message}");
    assert_eq!(refused("seed-raw-too-large").0, 413);
    let (status, message) = refused("seed-empty-body");
    assert_eq!(status, 400);
    assert!(message.contains("empty"), "{message}");
    assert_eq!(refused("seed-form-no-boundary").0, 400);
    assert_eq!(refused("seed-form-unterminated").0, 400);
}
