//! Feature datasets in Parquet.
//!
//! Columns: `image` (utf8), `label` (utf8, the breed), `features` (a fixed-size list of
//! float32; a variable list of float32 is read too). Key/value metadata records the
//! extractor: `paws.extractor.model` and `paws.extractor.dim`.

use crate::data::dataset::{Dataset, Extractor};
use crate::data::error::{PawsError, Result};
use crate::data::parquet_footer;
use crate::data::parquet_pages::{self, Shared};
use crate::data::strict_end::StrictEnd;
use arrow_array::builder::{FixedSizeListBuilder, Float32Builder};
use arrow_array::{
    Array, ArrayRef, FixedSizeListArray, Float32Array, LargeListArray, ListArray, RecordBatch,
    StringArray,
};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::file::reader::ChunkReader;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

pub const META_MODEL: &str = "paws.extractor.model";
pub const META_DIM: &str = "paws.extractor.dim";
/// The engine that ran the model (`tract`, `onnxruntime`), written by `paws extract`;
/// informational, readers ignore it.
pub const META_BACKEND: &str = "paws.extractor.backend";

pub(crate) fn pq_err(path: &Path, e: impl std::fmt::Display) -> PawsError {
    PawsError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

pub(crate) fn column_err(path: &Path, column: &str, message: impl Into<String>) -> PawsError {
    PawsError::BadColumn {
        path: path.to_path_buf(),
        column: column.to_string(),
        message: message.into(),
    }
}

/// Writes `data` to `path` atomically: a temporary file in the same folder, then a
/// rename, so a reader never sees half a file.
pub fn write_parquet(path: &Path, data: &Dataset) -> Result<()> {
    write_parquet_with(path, data, &[])
}

/// [`write_parquet`] with more key/value metadata (such as [`META_BACKEND`]).
pub fn write_parquet_with(path: &Path, data: &Dataset, extra: &[(&str, &str)]) -> Result<()> {
    let dim = data.dim();
    let item = Arc::new(Field::new("item", DataType::Float32, false));
    let schema = Arc::new(Schema::new(vec![
        Field::new("image", DataType::Utf8, false),
        Field::new("label", DataType::Utf8, false),
        Field::new(
            "features",
            DataType::FixedSizeList(item.clone(), dim as i32),
            false,
        ),
    ]));
    let mut list = FixedSizeListBuilder::with_capacity(
        Float32Builder::with_capacity(data.features().len()),
        dim as i32,
        data.len(),
    )
    .with_field(item);
    for i in 0..data.len() {
        list.values().append_slice(data.row(i));
        list.append(true);
    }
    let labels: Vec<&str> = (0..data.len()).map(|i| data.breed(i)).collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(data.images())),
        Arc::new(StringArray::from(labels)),
        Arc::new(list.finish()),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| pq_err(path, e))?;
    let props =
        WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_key_value_metadata(Some(
                vec![
                    parquet::file::metadata::KeyValue::new(
                        META_MODEL.into(),
                        data.extractor().model.clone(),
                    ),
                    parquet::file::metadata::KeyValue::new(META_DIM.into(), dim.to_string()),
                ]
                .into_iter()
                .chain(extra.iter().map(|(k, v)| {
                    parquet::file::metadata::KeyValue::new(k.to_string(), v.to_string())
                }))
                .collect(),
            ))
            .build();

    let io_err = |e| PawsError::io(path, e);
    crate::data::atomic::write_atomic_with(path, io_err, |temp| {
        let file = std::fs::File::create(temp).map_err(io_err)?;
        let mut writer =
            ArrowWriter::try_new(file, schema, Some(props)).map_err(|e| pq_err(path, e))?;
        writer.write(&batch).map_err(|e| pq_err(path, e))?;
        writer.close().map_err(|e| pq_err(path, e))?;
        Ok(())
    })
}

/// Rows per Parquet row group. Spark splits a file between tasks only at row groups,
/// so a file of one group is read (and its blocks cached) by one task; groups of whole
/// chunks also make Spark's splits fall on chunk boundaries, so no chunk straddles two.
pub const ROW_GROUP_ROWS: usize = 4 * crate::data::chunk::CHUNK_ROWS;

/// Spark's copy of the schema in every Parquet footer it writes, with column metadata.
const SPARK_ROW_METADATA: &str = "org.apache.spark.sql.parquet.row.metadata";

/// Whether `dir` is a Parquet dataset folder (Spark's output: part files, `_SUCCESS`)
/// rather than a legacy folder of JSON features: it holds a visible `*.parquet` file.
pub fn is_parquet_folder(dir: &Path) -> bool {
    parquet_parts(dir).is_ok_and(|parts| !parts.is_empty())
}

/// The visible `*.parquet` files of a dataset folder, in name order (Spark numbers its
/// part files in the order of the rows).
fn parquet_parts(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let io_err = |e| PawsError::io(dir, e);
    let mut parts = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let hidden = name.starts_with('.') || name.starts_with('_');
        if !hidden && name.ends_with(".parquet") && entry.path().is_file() {
            parts.push(entry.path());
        }
    }
    parts.sort();
    Ok(parts)
}

/// One Parquet file's rows.
struct Part {
    images: Vec<String>,
    breeds: Vec<String>,
    features: Vec<f32>,
    /// None for a part without rows.
    dim: Option<usize>,
    model: Option<String>,
}

/// Reads a feature Parquet file written by paws or by anyone following the layout, or
/// a folder of part files as Spark writes it (`ExtractFeatures`), in part-name order.
///
/// The extractor comes from the footer (`paws.extractor.model`), else from the
/// `features` column's metadata that Spark keeps in the footer.
pub fn read_parquet(path: &Path) -> Result<Dataset> {
    let files = if path.is_dir() {
        let parts = parquet_parts(path)?;
        if parts.is_empty() {
            return Err(column_err(
                path,
                "features",
                "the folder has no .parquet files",
            ));
        }
        parts
    } else {
        vec![path.to_path_buf()]
    };
    let parts = files.iter().map(|f| read_part(f).map(|p| (f.as_path(), p)));
    merge_parts(path, parts)
}

/// One Parquet file's bytes (fetched from S3, or a fuzzer's input), read as
/// [`read_parquet`] reads a file; `name` names it in errors.
pub fn read_parquet_bytes(name: &Path, bytes: Vec<u8>) -> Result<Dataset> {
    let part = read_part_from(name, bytes::Bytes::from(bytes))?;
    merge_parts(name, std::iter::once(Ok((name, part))))
}

/// The parts' rows in order, checked to share one dimension and one extractor.
fn merge_parts<'a>(
    path: &Path,
    parts: impl Iterator<Item = Result<(&'a Path, Part)>>,
) -> Result<Dataset> {
    let mut all: Option<Part> = None;
    for item in parts {
        let (file, part) = item?;
        if part.dim.is_none() {
            continue;
        }
        let Some(acc) = all.as_mut() else {
            all = Some(part);
            continue;
        };
        if part.dim != acc.dim {
            return Err(column_err(
                file,
                "features",
                format!(
                    "rows have {} values, earlier parts {}",
                    part.dim.unwrap_or_default(),
                    acc.dim.unwrap_or_default()
                ),
            ));
        }
        if part.model != acc.model {
            return Err(column_err(
                file,
                "features",
                format!(
                    "extractor {:?} differs from earlier parts' {:?}",
                    part.model, acc.model
                ),
            ));
        }
        acc.images.extend(part.images);
        acc.breeds.extend(part.breeds);
        acc.features.extend(part.features);
    }
    let Some((all, dim)) = all.and_then(|a| a.dim.map(|d| (a, d))) else {
        return Err(column_err(path, "features", "the file has no rows"));
    };
    let extractor = Extractor {
        model: all.model.unwrap_or_else(|| "unknown".into()),
        dim,
    };
    Dataset::new(
        dim,
        all.features,
        all.images,
        all.breeds,
        extractor,
        path.display().to_string(),
    )
}

/// The `features` column's metadata from Spark's schema copy, if any.
fn spark_column_metadata(meta: &HashMap<String, String>) -> HashMap<String, String> {
    let Some(json) = meta.get(SPARK_ROW_METADATA) else {
        return HashMap::new();
    };
    let Ok(schema) = serde_json::from_str::<serde_json::Value>(json) else {
        return HashMap::new();
    };
    let fields = schema["fields"].as_array().cloned().unwrap_or_default();
    fields
        .iter()
        .find(|f| f["name"] == "features")
        .and_then(|f| f["metadata"].as_object())
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                    (k.clone(), v)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn read_part(path: &Path) -> Result<Part> {
    let file = std::fs::File::open(path).map_err(|e| PawsError::io(path, e))?;
    read_part_from(path, file)
}

/// [`decode_part`], with a panic of the Parquet reader turned into a named error: the
/// `parquet` crate asserts on some corrupt encodings instead of returning an error (the
/// parquet fuzzer found `get_vlq_int`'s "Num of bytes exceed MAX_VLQ_BYTE_LEN"), and a
/// corrupt file must not crash the CLI or a Spark executor.
fn read_part_from<R: ChunkReader + 'static>(path: &Path, input: R) -> Result<Part> {
    catch_reader_panic(path, || decode_part(path, StrictEnd(input)))
}

/// Runs a read with a panic of the Parquet reader turned into a named error.
pub(crate) fn catch_reader_panic<T>(path: &Path, read: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(|payload| {
        let why = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("the reader panicked");
        Err(pq_err(path, format!("corrupt Parquet data: {why}")))
    })
}

fn decode_part<R: ChunkReader + 'static>(path: &Path, input: R) -> Result<Part> {
    let input = Arc::new(input);
    let footer = parquet_footer::read(path, &*input)?;
    let metadata = parquet_footer::arrow_metadata(path, footer)?;
    let all_groups: Vec<usize> = (0..metadata.metadata().num_row_groups()).collect();
    let all_leaves: Vec<usize> = (0..metadata
        .metadata()
        .file_metadata()
        .schema_descr()
        .num_columns())
        .collect();
    parquet_pages::check_dictionaries(path, &input, metadata.metadata(), &all_groups, &all_leaves)?;
    let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(Shared(input), metadata);
    let meta = footer_metadata(builder.metadata().file_metadata());
    check_columns(path, builder.schema())?;
    let reader = builder.build().map_err(|e| pq_err(path, e))?;

    let (mut images, mut breeds, mut features) = (Vec::new(), Vec::new(), Vec::new());
    let mut dim: Option<usize> = None;
    for batch in reader {
        let batch = batch.map_err(|e| pq_err(path, e))?;
        let row0 = images.len();
        append_strings(path, &batch, "image", row0, &mut images)?;
        append_strings(path, &batch, "label", row0, &mut breeds)?;
        let col = batch.column_by_name("features").expect("checked above");
        append_features(
            path,
            col,
            row0,
            |i| format!(" (image {})", images[i]),
            &mut dim,
            &mut features,
        )?;
    }
    // An empty part (Spark may write one) has no dimension; the whole must have rows.
    let Some(dim) = dim else {
        return Ok(Part {
            images,
            breeds,
            features,
            dim: None,
            model: meta.get(META_MODEL).cloned(),
        });
    };
    if let Some(declared) = meta.get(META_DIM) {
        if declared != &dim.to_string() {
            return Err(column_err(
                path,
                "features",
                format!("metadata {META_DIM}={declared}, rows have {dim} values"),
            ));
        }
    }
    Ok(Part {
        images,
        breeds,
        features,
        dim: Some(dim),
        model: meta.get(META_MODEL).cloned(),
    })
}

/// The footer's key/value metadata, with the `features` column's metadata from
/// Spark's schema copy for the keys the footer does not have.
pub(crate) fn footer_metadata(
    file: &parquet::file::metadata::FileMetaData,
) -> HashMap<String, String> {
    let mut meta: HashMap<String, String> = file
        .key_value_metadata()
        .map(|kv| {
            kv.iter()
                .filter_map(|k| Some((k.key.clone(), k.value.clone()?)))
                .collect()
        })
        .unwrap_or_default();
    for (k, v) in spark_column_metadata(&meta) {
        meta.entry(k).or_insert(v);
    }
    meta
}

/// The three columns are there (their types are checked as the rows are read).
pub(crate) fn check_columns(path: &Path, schema: &Schema) -> Result<()> {
    for name in ["image", "label", "features"] {
        if schema.field_with_name(name).is_err() {
            let found: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            return Err(column_err(
                path,
                name,
                format!("missing; found columns: {}", found.join(", ")),
            ));
        }
    }
    Ok(())
}

/// Appends a utf8 column of `batch` (its first row is row `row0` of the file).
pub(crate) fn append_strings(
    path: &Path,
    batch: &RecordBatch,
    name: &str,
    row0: usize,
    out: &mut Vec<String>,
) -> Result<()> {
    let col = batch
        .column_by_name(name)
        .ok_or_else(|| column_err(path, name, "missing"))?;
    let strings = col.as_any().downcast_ref::<StringArray>().ok_or_else(|| {
        column_err(
            path,
            name,
            format!("expected utf8, found {}", col.data_type()),
        )
    })?;
    if let Some(i) = (0..strings.len()).find(|&i| strings.is_null(i)) {
        return Err(column_err(path, name, format!("row {} is null", row0 + i)));
    }
    out.extend(strings.iter().map(|s| s.unwrap_or_default().to_string()));
    Ok(())
}

/// Appends the rows of a `features` list column (its first row is row `row0` of the
/// file) to `out`, checking that every row has `dim` values (the first row read fixes
/// it) and no nulls; `about(row)` adds to an error what else names the row.
pub(crate) fn append_features(
    path: &Path,
    col: &ArrayRef,
    row0: usize,
    about: impl Fn(usize) -> String,
    dim: &mut Option<usize>,
    out: &mut Vec<f32>,
) -> Result<()> {
    for i in 0..col.len() {
        let r = row0 + i;
        let row = list_row(col, i)
            .map_err(|m| column_err(path, "features", format!("row {r}{}: {m}", about(r))))?;
        let expected = *dim.get_or_insert(row.len());
        if row.len() != expected {
            return Err(column_err(
                path,
                "features",
                format!(
                    "row {r}{}: expected {expected} values, found {}",
                    about(r),
                    row.len()
                ),
            ));
        }
        if let Some(j) = (0..row.len()).find(|&j| row.is_null(j)) {
            return Err(column_err(
                path,
                "features",
                format!("row {r}{}: value {j} is null", about(r)),
            ));
        }
        out.extend_from_slice(row.values());
    }
    Ok(())
}

/// Row `i` of a list column as a float32 array.
fn list_row(col: &ArrayRef, i: usize) -> Result<Float32Array, String> {
    if col.is_null(i) {
        return Err("features are null".into());
    }
    let values: ArrayRef = if let Some(l) = col.as_any().downcast_ref::<FixedSizeListArray>() {
        l.value(i)
    } else if let Some(l) = col.as_any().downcast_ref::<ListArray>() {
        l.value(i)
    } else if let Some(l) = col.as_any().downcast_ref::<LargeListArray>() {
        l.value(i)
    } else {
        return Err(format!(
            "expected a list of float32, found {}",
            col.data_type()
        ));
    };
    values
        .as_any()
        .downcast_ref::<Float32Array>()
        .cloned()
        .ok_or_else(|| format!("expected float32 values, found {}", values.data_type()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extractor_from_spark_column_metadata() {
        // The footer entry Spark 3.5 writes for NativeFeatureExtractor's schema.
        let json = r#"{"type":"struct","fields":[{"name":"image","type":"string","nullable":false,"metadata":{}},{"name":"label","type":"string","nullable":false,"metadata":{}},{"name":"features","type":{"type":"array","elementType":"float","containsNull":false},"nullable":false,"metadata":{"paws.extractor.model":"efficientnet-lite0-imagenet","paws.extractor.dim":"1280"}}]}"#;
        let meta = HashMap::from([(SPARK_ROW_METADATA.to_string(), json.to_string())]);
        let m = spark_column_metadata(&meta);
        assert_eq!(m[META_MODEL], "efficientnet-lite0-imagenet");
        assert_eq!(m[META_DIM], "1280");
        assert!(spark_column_metadata(&HashMap::new()).is_empty());
        let junk = HashMap::from([(SPARK_ROW_METADATA.to_string(), "{".to_string())]);
        assert!(spark_column_metadata(&junk).is_empty());
    }
}
