//! Feature datasets on disk: the legacy JSON folder and Parquet, and every bad input
//! with the error a user sees.

use paws_core::data::dataset::Extractor;
use paws_core::data::legacy;
use paws_core::data::parquet_io::{read_parquet, write_parquet};
use paws_core::Dataset;
use std::fs;
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) {
    fs::write(dir.join(name), text).unwrap();
}

fn err_of(dir: &Path) -> String {
    legacy::read_folder(dir, "vgg16-fc2")
        .unwrap_err()
        .to_string()
}

#[test]
fn legacy_folder_reads_breeds_species_and_rows_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "beagle_2.jpg.json", "[0.5, 1.5, 2.5]");
    write(dir.path(), "Bengal_10.jpg.json", "[1, 2, 3]");
    write(
        dir.path(),
        "american_pit_bull_terrier_1.jpg.json",
        "[0.0,0.25,1e-3]",
    );
    write(dir.path(), "README.txt", "not a feature file");
    let d = legacy::read_folder(dir.path(), "vgg16-fc2").unwrap();
    assert_eq!(d.len(), 3);
    assert_eq!(d.dim(), 3);
    assert_eq!(d.images()[0], "Bengal_10.jpg");
    assert_eq!(d.breed(0), "Bengal");
    assert_eq!(d.breed(1), "american_pit_bull_terrier");
    assert_eq!(d.row(1), &[0.0, 0.25, 0.001]);
    assert_eq!(paws_core::data::dataset::species_of(d.breed(0)), "cat");
    assert_eq!(paws_core::data::dataset::species_of(d.breed(2)), "dog");
    assert_eq!(
        d.extractor(),
        &Extractor {
            model: "vgg16-fc2".into(),
            dim: 3
        }
    );
}

#[test]
fn malformed_json_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "beagle_1.jpg.json", "[1, 2, 3]");
    write(dir.path(), "beagle_2.jpg.json", "[1, 2,");
    let e = err_of(dir.path());
    assert!(
        e.contains("beagle_2.jpg.json") && e.contains("malformed feature JSON"),
        "{e}"
    );
}

#[test]
fn wrong_dimension_names_file_expected_and_found() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "beagle_1.jpg.json", "[1, 2, 3]");
    write(dir.path(), "beagle_2.jpg.json", "[1, 2]");
    let e = err_of(dir.path());
    assert!(
        e.contains("beagle_2.jpg.json") && e.contains("expected 3, found 2"),
        "{e}"
    );
}

#[test]
fn nan_and_infinity_name_the_file_and_index() {
    for (text, index, value) in [
        ("[1, NaN, 3]", 1, "NaN"),
        ("[1, 2, Infinity]", 2, "Infinity"),
        ("[-Infinity, 2, 3]", 0, "-Infinity"),
        // Finite in JSON but not in float32.
        ("[1, 2, 1e300]", 2, "1e300"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "pug_1.jpg.json", text);
        let e = err_of(dir.path());
        assert!(
            e.contains("pug_1.jpg.json") && e.contains(&format!("feature index {index}")),
            "{text}: {e}"
        );
        assert!(e.contains(value) || value == "1e300", "{text}: {e}");
    }
}

#[test]
fn empty_folder_and_bad_names_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    assert!(err_of(dir.path()).contains("no feature files"));
    write(dir.path(), "features.json", "[1]");
    let e = err_of(dir.path());
    assert!(
        e.contains("features.json") && e.contains("<breed>_<n>.jpg.json"),
        "{e}"
    );
    let e = legacy::read_folder(&dir.path().join("absent"), "x")
        .unwrap_err()
        .to_string();
    assert!(e.contains("absent"), "{e}");
}

fn sample() -> Dataset {
    Dataset::new(
        4,
        (0..12).map(|v| v as f32 * 0.5).collect(),
        vec![
            "Bengal_1.jpg".into(),
            "pug_1.jpg".into(),
            "pug_2.jpg".into(),
        ],
        vec!["Bengal".into(), "pug".into(), "pug".into()],
        Extractor {
            model: "efficientnet-lite0-imagenet".into(),
            dim: 4,
        },
        "sample",
    )
    .unwrap()
}

#[test]
fn parquet_round_trips_rows_labels_and_extractor() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.parquet");
    let d = sample();
    write_parquet(&path, &d).unwrap();
    let back = read_parquet(&path).unwrap();
    assert_eq!(back.features(), d.features());
    assert_eq!(back.images(), d.images());
    assert_eq!(back.labels(), d.labels());
    assert_eq!(back.classes(), d.classes());
    assert_eq!(back.extractor(), d.extractor());
    // Only the final file is left: no temporary file beside it.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn parquet_row_groups_hold_whole_chunks_so_spark_can_split_the_file() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let n = 2 * paws_core::data::parquet_io::ROW_GROUP_ROWS + 452;
    let d = Dataset::new(
        2,
        (0..2 * n).map(|v| v as f32).collect(),
        (0..n).map(|i| format!("pug_{i}.jpg")).collect(),
        vec!["pug".into(); n],
        Extractor {
            model: "m".into(),
            dim: 2,
        },
        "groups",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.parquet");
    write_parquet(&path, &d).unwrap();
    let reader = SerializedFileReader::new(fs::File::open(&path).unwrap()).unwrap();
    let groups: Vec<i64> = reader
        .metadata()
        .row_groups()
        .iter()
        .map(|g| g.num_rows())
        .collect();
    let g = paws_core::data::parquet_io::ROW_GROUP_ROWS as i64;
    assert_eq!(groups, vec![g, g, 452]);
    assert_eq!(g % paws_core::data::chunk::CHUNK_ROWS as i64, 0);
    assert_eq!(read_parquet(&path).unwrap().features(), d.features());
}

#[test]
fn parquet_errors_name_the_file_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.parquet");
    fs::write(&junk, b"definitely not parquet").unwrap();
    let e = read_parquet(&junk).unwrap_err().to_string();
    assert!(e.contains("junk.parquet") && e.contains("Parquet"), "{e}");

    // A file with the wrong columns, written with arrow directly.
    use arrow_array::{ArrayRef, Int32Array, RecordBatch, StringArray};
    use std::sync::Arc;
    let path = dir.path().join("cols.parquet");
    let batch = RecordBatch::try_from_iter(vec![
        (
            "image",
            Arc::new(StringArray::from(vec!["a_1.jpg"])) as ArrayRef,
        ),
        ("label", Arc::new(StringArray::from(vec!["a"])) as ArrayRef),
        ("feats", Arc::new(Int32Array::from(vec![1])) as ArrayRef),
    ])
    .unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(
        fs::File::create(&path).unwrap(),
        batch.schema(),
        None,
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let e = read_parquet(&path).unwrap_err().to_string();
    assert!(
        e.contains("cols.parquet") && e.contains("'features'") && e.contains("feats"),
        "{e}"
    );

    let path = dir.path().join("types.parquet");
    let batch = RecordBatch::try_from_iter(vec![
        (
            "image",
            Arc::new(StringArray::from(vec!["a_1.jpg"])) as ArrayRef,
        ),
        ("label", Arc::new(StringArray::from(vec!["a"])) as ArrayRef),
        ("features", Arc::new(Int32Array::from(vec![1])) as ArrayRef),
    ])
    .unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(
        fs::File::create(&path).unwrap(),
        batch.schema(),
        None,
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let e = read_parquet(&path).unwrap_err().to_string();
    assert!(
        e.contains("types.parquet") && e.contains("row 0") && e.contains("list of float32"),
        "{e}"
    );
}

#[test]
fn writing_into_a_missing_folder_fails_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/f.parquet");
    let e = write_parquet(&path, &sample()).unwrap_err().to_string();
    assert!(e.contains("no/such/dir"), "{e}");
    assert!(!path.exists());
}

/// Rows `range` of `d` as a dataset of their own (a Spark part file).
fn slice(d: &Dataset, range: std::ops::Range<usize>, model: &str) -> Dataset {
    Dataset::new(
        d.dim(),
        range.clone().flat_map(|i| d.row(i).to_vec()).collect(),
        d.images()[range.clone()].to_vec(),
        range.map(|i| d.breed(i).to_string()).collect(),
        Extractor {
            model: model.into(),
            dim: d.dim(),
        },
        "part",
    )
    .unwrap()
}

#[test]
fn parquet_folder_of_part_files_reads_in_part_order() {
    // Spark's layout: part files numbered in row order, _SUCCESS, hidden .crc files.
    let d = sample();
    let model = &d.extractor().model;
    let dir = tempfile::tempdir().unwrap();
    let n = d.len();
    write_parquet(
        &dir.path().join("part-00001-x.snappy.parquet"),
        &slice(&d, 1..n, model),
    )
    .unwrap();
    write_parquet(
        &dir.path().join("part-00000-x.snappy.parquet"),
        &slice(&d, 0..1, model),
    )
    .unwrap();
    write(dir.path(), "_SUCCESS", "");
    write(dir.path(), ".part-00000-x.snappy.parquet.crc", "crc");
    assert!(paws_core::data::parquet_io::is_parquet_folder(dir.path()));
    let back = read_parquet(dir.path()).unwrap();
    assert_eq!(back.features(), d.features());
    assert_eq!(back.images(), d.images());
    assert_eq!(back.labels(), d.labels());
    assert_eq!(back.extractor(), d.extractor());

    // Parts of two extractors are refused, naming the part.
    write_parquet(
        &dir.path().join("part-00002-x.snappy.parquet"),
        &slice(&d, 0..1, "vgg16-fc2"),
    )
    .unwrap();
    let e = read_parquet(dir.path()).unwrap_err().to_string();
    assert!(e.contains("part-00002") && e.contains("vgg16-fc2"), "{e}");

    // A legacy JSON folder is not a Parquet folder; an empty folder has no parts.
    let legacy = tempfile::tempdir().unwrap();
    write(legacy.path(), "Bengal_1.jpg.json", "[1, 2]");
    assert!(!paws_core::data::parquet_io::is_parquet_folder(
        legacy.path()
    ));
    let e = read_parquet(legacy.path()).unwrap_err().to_string();
    assert!(e.contains("no .parquet files"), "{e}");
}
