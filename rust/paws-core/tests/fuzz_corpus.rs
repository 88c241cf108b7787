//! Replays the fuzzers' corpora on stable, as part of `cargo test`: every input that
//! `cargo fuzz` kept for new coverage, and every input that once broke a target (added
//! there when fixed), goes through the same entry point as in `rust/paws-fuzz`, with the
//! same checks. The images' corpus is replayed by paws-vision's tests.

use paws_core::breeds::model_file::BreedModel;
use paws_core::data::legacy::parse_feature_array;
use paws_core::data::parquet_footer;
use paws_core::data::parquet_io::read_parquet_bytes;
use paws_core::experiment::parse_splits;
use paws_core::experiment::saved_model::SavedModel;
use paws_testkit::fuzz::corpus;
use std::path::Path;

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// The error of reading the parquet corpus's input `name`, which must be refused and be
/// named in the message.
fn parquet_seed_error(name: &str) -> String {
    let data = paws_testkit::fuzz::seed("parquet", name);
    let err = read_parquet_bytes(Path::new(name), data).expect_err("a corrupt file read as valid");
    let msg = err.to_string();
    assert!(msg.contains(name), "{msg}");
    msg
}

#[test]
fn legacy_json_corpus_gives_finite_features_or_a_named_error() {
    let mut ok = 0;
    for (path, data) in corpus("legacy_json") {
        match parse_feature_array(&path, &data) {
            Ok(v) => {
                assert!(
                    !v.is_empty() && v.iter().all(|x| x.is_finite()),
                    "{}",
                    path.display()
                );
                ok += 1;
            }
            Err(e) => assert!(
                e.to_string().contains(&name(&path)),
                "{}: {e}",
                path.display()
            ),
        }
    }
    assert!(ok > 0, "no valid file in the corpus");
}

#[test]
fn splits_corpus_gives_splits_in_the_open_unit_interval_or_an_error() {
    let mut ok = 0;
    for (path, data) in corpus("splits") {
        let Ok(text) = std::str::from_utf8(&data) else {
            continue;
        };
        if let Ok(s) = parse_splits(text) {
            assert!(
                !s.is_empty() && s.iter().all(|&x| x > 0.0 && x < 1.0),
                "{}: {s:?}",
                path.display()
            );
            ok += 1;
        }
    }
    assert!(ok > 0, "no valid --splits in the corpus");
}

#[test]
fn model_json_corpus_loads_checked_models_or_names_the_file() {
    let (mut saved, mut breeds) = (0, 0);
    for (path, data) in corpus("model_json") {
        match SavedModel::from_slice(&path, &data) {
            Ok(m) => {
                assert_eq!(m.model.weights.len(), m.feature_dim, "{}", path.display());
                saved += 1;
            }
            Err(e) => assert!(
                e.to_string().contains(&name(&path)),
                "{}: {e}",
                path.display()
            ),
        }
        match BreedModel::from_slice(&path, &data) {
            Ok(_) => breeds += 1,
            Err(e) => assert!(
                e.to_string().contains(&name(&path)),
                "{}: {e}",
                path.display()
            ),
        }
    }
    assert!(
        saved > 0 && breeds > 0,
        "the corpus lost its valid models ({saved} saved, {breeds} breed)"
    );
}

#[test]
fn parquet_corpus_reads_consistent_datasets_or_names_the_file() {
    let mut ok = 0;
    for (path, data) in corpus("parquet") {
        match read_parquet_bytes(&path, data) {
            Ok(d) => {
                assert_eq!(d.features().len(), d.len() * d.dim(), "{}", path.display());
                assert_eq!(d.images().len(), d.len(), "{}", path.display());
                ok += 1;
            }
            Err(e) => assert!(
                e.to_string().contains(&name(&path)),
                "{}: {e}",
                path.display()
            ),
        }
    }
    assert!(ok > 0, "no valid Parquet file in the corpus");
}

/// A corrupt page header once made the `parquet` crate skip two billion `double`s past
/// the end of a 1,166-byte file, minutes of CPU (`paws_core::data::strict_end`). A hang
/// shows here as a failure after a minute, far above the milliseconds it takes, rather
/// than as a CI run that never ends.
#[test]
fn a_page_header_that_skips_past_the_end_is_a_prompt_named_error() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../paws-fuzz/corpus/parquet/timeout-page-header-skip");
    let data = std::fs::read(&path).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let name = path.clone();
    std::thread::spawn(move || tx.send(read_parquet_bytes(&name, data).map(|d| d.len())));
    let got = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the read still runs after a minute: the page-header skip hangs again");
    let err = got.expect_err("a corrupt file read as valid");
    let msg = err.to_string();
    assert!(msg.contains("timeout-page-header-skip"), "{msg}");
    assert!(msg.contains("past the end"), "{msg}");
}

/// A 1,296-byte footer with a map of booleans declaring 757 million entries in a schema
/// element's unknown field 14: the `parquet` crate skips it by looping over the declared
/// length, a boolean taking no bytes in its skip, 5 s of CPU before its error (nested
/// maps would multiply that). The footer walk refuses it before the crate reads it.
#[test]
fn a_footer_map_longer_than_its_bytes_is_refused_before_the_crate_skips_it() {
    let msg = parquet_seed_error("slow-bool-map-skip");
    assert!(
        msg.contains("corrupt footer: a Thrift map at byte 40 declares 757067123 elements"),
        "{msg}"
    );
}

/// A 1,012-byte footer whose schema declares 1.1 billion children made the `parquet`
/// crate reserve 8.9 GB before reading any of them; under an address-space limit that
/// aborted the process (`paws_core::data::parquet_footer`). Now the footer's shape is
/// checked first: a named error, with nothing reserved (the CLI's test runs it under
/// `ulimit -v`).
#[test]
fn a_schema_declaring_a_billion_children_is_a_named_error() {
    // The second: the same count in a field whose header says i64, which the crate
    // reads as its schema's i32 all the same. The third: the same count after a header
    // byte 0x40 inside a logical type, which the crate takes as the struct's end (any
    // header of type 0 is) and an earlier walk took for a field it could not read.
    for name in [
        "oom-schema-num-children",
        "oom-schema-num-children-typed-i64",
        "oom-schema-num-children-after-type-zero-stop",
    ] {
        let msg = parquet_seed_error(name);
        assert!(msg.contains("corrupt footer: schema element"), "{msg}");
        assert!(msg.contains("children"), "{msg}");
    }
}

/// A 2,196-byte file whose `ARROW:schema` hint declares a `fixed_size_list` of 134 million
/// floats: the crate's reader sized its buffers by it (17.8 GB resident, 42 s, for 33
/// rows). paws' readers ignore the hint and read the Parquet schema's list, so the
/// buffers grow only with decoded values: the file's real damage is a named error.
#[test]
fn an_arrow_schema_hint_of_a_huge_fixed_size_list_allocates_nothing_by_it() {
    let name = "oom-arrow-hint-fixed-size-list";
    let data = paws_testkit::fuzz::seed("parquet", name);
    let path = Path::new(name);
    let footer = parquet_footer::read(path, &bytes::Bytes::from(data.clone())).unwrap();
    let arrow = parquet_footer::arrow_metadata(path, footer).unwrap();
    let features = arrow
        .schema()
        .field_with_name("features")
        .unwrap()
        .data_type()
        .clone();
    assert!(
        matches!(features, arrow_schema::DataType::List(_)),
        "features read as {features}, not as the Parquet schema's list"
    );
    // The file's real damage: the page check (`parquet_pages`) reaches a page header
    // it cannot read before any buffer is sized.
    let msg = parquet_seed_error(name);
    assert!(!msg.contains("allocate"), "{msg}");
    assert!(msg.contains("Invalid page header"), "{msg}");
}

/// A 1,311-byte file whose `label` dictionary page declares 1.34 billion values: the
/// crate reserved room for all of them before reading one (5.4 GB). The dictionary
/// pages are checked against their bytes first.
#[test]
fn a_dictionary_declaring_more_values_than_its_bytes_is_refused_before_decoding() {
    let msg = parquet_seed_error("oom-label-dictionary-num-values");
    assert!(msg.contains("corrupt dictionary page"), "{msg}");
}
