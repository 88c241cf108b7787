//! Replays the `s3` and `s3_list` fuzzers' corpora (`rust/paws-fuzz/corpus`) on stable,
//! as part of `cargo test`, through the fuzz targets' entry points and checks
//! (`paws_store::fuzzing`); the seeds also pin what a user's URL, a listing's odd keys
//! and a server's error answers give.

use paws_store::fuzzing::{s3 as replay_s3, s3_list as replay_list};
use paws_testkit::fuzz::{corpus, seed};

#[test]
fn s3_corpus_gives_safe_file_names_or_a_named_error() {
    let (mut ok, mut refused) = (0, 0);
    for (_, data) in corpus("s3") {
        match replay_s3(&data) {
            Ok(_) => ok += 1,
            Err(_) => refused += 1,
        }
    }
    assert!(ok > 0 && refused > 0, "{ok} accepted, {refused} refused");
}

#[test]
fn the_s3_seeds_give_what_a_user_expects() {
    assert_eq!(
        replay_s3(&seed("s3", "seed-folder")).unwrap(),
        ["a.parquet", "_SUCCESS"]
    );
    for (name, needle) in [
        (
            "seed-dotdot-key",
            "s3://pets/in/..: its last part cannot name a local file",
        ),
        ("seed-backslash", "it holds a backslash"),
        (
            "seed-repeated-key",
            "s3://pets/in/x: the listing of s3://pets/in returned it twice",
        ),
        (
            "seed-outside-prefix",
            "s3://pets/i: the listing of s3://pets/in/ returned it",
        ),
        (
            "seed-bad-bucket",
            "'Pets_Bucket' is not a valid bucket name",
        ),
        ("seed-s3a", "it does not start with s3://"),
    ] {
        let e = replay_s3(&seed("s3", name)).expect_err(name);
        assert!(e.contains(needle), "{name}: {e}");
    }
}

#[test]
fn s3_list_corpus_gives_sorted_objects_or_a_named_error() {
    let (mut ok, mut refused) = (0, 0);
    for (path, data) in corpus("s3_list") {
        match replay_list(&data) {
            Some(Ok(_)) => ok += 1,
            Some(Err(_)) => refused += 1,
            None => panic!("{}: no client", path.display()),
        }
    }
    assert!(ok > 0 && refused > 0, "{ok} accepted, {refused} refused");
}

#[test]
fn the_s3_list_seeds_give_what_the_server_said() {
    let keys = |name: &str| -> Vec<String> {
        replay_list(&seed("s3_list", name))
            .unwrap()
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .into_iter()
            .map(|o| o.url.key)
            .collect()
    };
    assert_eq!(
        keys("seed-listing"),
        ["in/_SUCCESS", "in/a.parquet", "in/b.parquet", "in/sub/c"]
    );
    // The server repeats its continuation token: the SDK's paginator stops.
    assert!(keys("seed-listing-truncated")
        .iter()
        .all(|k| k == "in/a.parquet"));
    let error = |name: &str| {
        replay_list(&seed("s3_list", name))
            .unwrap()
            .expect_err(name)
            .to_string()
    };
    assert!(error("seed-no-such-bucket").contains("bucket pets does not exist"));
    assert!(error("seed-access-denied").contains("s3://pets/in/: access denied"));
    assert!(error("seed-not-xml").contains("ListObjectsV2 s3://pets/in/"));
}
