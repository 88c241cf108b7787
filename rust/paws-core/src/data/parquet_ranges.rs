//! A features Parquet file read in pieces, by a caller that fetches the bytes itself.
//!
//! Spark's executors read through Hadoop's `FileSystem` (so `s3a://`, `hdfs://` and
//! EMRFS paths work), not through Spark SQL, whose cold start cost seconds of every
//! run. The caller reads the file's last [`TAIL_LEN`] bytes ([`footer_len`]), then the
//! footer ([`layout`]: the row groups and the byte ranges of their columns), then only
//! the ranges one reader needs: the driver the small `image`/`label` columns
//! ([`read_index`]), each task the `features` of its row groups ([`read_features`]).
//! Decoding and every check are [`crate::data::parquet_io`]'s, so a file reads here as
//! `paws experiment` reads it.

use crate::data::error::{PawsError, Result};
use crate::data::parquet_footer;
pub use crate::data::parquet_footer::{footer_len, TAIL_LEN};
use crate::data::parquet_io::{
    append_features, append_strings, catch_reader_panic, check_columns, footer_metadata, pq_err,
    META_DIM, META_MODEL,
};
use crate::data::parquet_pages::{self, Shared};
use crate::data::strict_end::StrictEnd;
use bytes::{Buf, Bytes};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;
use parquet::errors::ParquetError;
use parquet::file::metadata::ParquetMetaData;
use parquet::file::reader::{ChunkReader, Length};
use std::path::Path;
use std::sync::Arc;

/// Byte ranges of the file, `(start, length)`, adjacent ones joined.
pub type Ranges = Vec<(u64, u64)>;

/// One row group: its rows and where its columns lie.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowGroupRanges {
    pub rows: u64,
    /// The `image` and `label` columns.
    pub index: Ranges,
    /// The `features` column.
    pub features: Ranges,
}

/// What the footer says: the row groups, and the extractor it records.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileLayout {
    pub row_groups: Vec<RowGroupRanges>,
    /// `paws.extractor.model`, if recorded.
    pub model: Option<String>,
    /// `paws.extractor.dim`, if recorded.
    pub dim: Option<String>,
}

/// The footer parsed and checked once per call: every range it names must lie in the
/// file before the footer.
struct Footer {
    arrow: ArrowReaderMetadata,
}

impl Footer {
    fn parse(path: &Path, file_len: u64, footer: &[u8]) -> Result<Self> {
        let meta = parquet_footer::decode(path, footer)?;
        let arrow = parquet_footer::arrow_metadata(path, meta)?;
        check_columns(path, arrow.schema())?;
        let data_end = file_len.saturating_sub((footer.len() + TAIL_LEN) as u64);
        for (g, rg) in arrow.metadata().row_groups().iter().enumerate() {
            for c in rg.columns() {
                let (start, len) = c.byte_range();
                if start.checked_add(len).is_none_or(|end| end > data_end) {
                    return Err(pq_err(
                        path,
                        format!(
                            "row group {g}: column {} claims bytes {start}..+{len}, outside the file's {data_end} data bytes",
                            c.column_path()
                        ),
                    ));
                }
            }
        }
        Ok(Footer { arrow })
    }

    fn metadata(&self) -> &Arc<ParquetMetaData> {
        self.arrow.metadata()
    }

    /// The leaf columns under the top-level columns `names`.
    fn leaves(&self, names: &[&str]) -> Vec<usize> {
        let schema = self.metadata().file_metadata().schema_descr();
        (0..schema.num_columns())
            .filter(|&i| names.contains(&schema.get_column_root(i).name()))
            .collect()
    }

    fn ranges(&self, group: usize, leaves: &[usize]) -> Ranges {
        let rg = self.metadata().row_group(group);
        let mut spans: Ranges = leaves.iter().map(|&i| rg.column(i).byte_range()).collect();
        spans.sort_unstable();
        let mut joined: Ranges = Vec::with_capacity(spans.len());
        for (start, len) in spans {
            match joined.last_mut() {
                Some((s, l)) if *s + *l >= start => *l = (*l).max(start + len - *s),
                _ => joined.push((start, len)),
            }
        }
        joined
    }

    /// The first row of `group` within the file.
    fn first_row(&self, group: usize) -> usize {
        self.metadata().row_groups()[..group]
            .iter()
            .map(|rg| rg.num_rows() as usize)
            .sum()
    }

    /// A reader of `columns` in `groups` over the fetched bytes.
    fn reader(
        &self,
        path: &Path,
        fetched: Fetched,
        groups: Vec<usize>,
        columns: &[&str],
    ) -> Result<parquet::arrow::arrow_reader::ParquetRecordBatchReader> {
        let schema = self.metadata().file_metadata().schema_descr();
        let mask = ProjectionMask::roots(
            schema,
            (0..schema.root_schema().get_fields().len())
                .filter(|&i| columns.contains(&schema.root_schema().get_fields()[i].name())),
        );
        let input = Arc::new(StrictEnd(fetched));
        let leaves = self.leaves(columns);
        parquet_pages::check_dictionaries(path, &input, self.metadata(), &groups, &leaves)?;
        ParquetRecordBatchReaderBuilder::new_with_metadata(Shared(input), self.arrow.clone())
            .with_row_groups(groups)
            .with_projection(mask)
            .build()
            .map_err(|e| pq_err(path, e))
    }
}

/// The row groups and column ranges that `footer` (the file's footer, without the
/// tail) describes; the three columns must be there.
pub fn layout(path: &Path, file_len: u64, footer: &[u8]) -> Result<FileLayout> {
    catch_reader_panic(path, || {
        let f = Footer::parse(path, file_len, footer)?;
        let (index, features) = (f.leaves(&["image", "label"]), f.leaves(&["features"]));
        let row_groups = (0..f.metadata().num_row_groups())
            .map(|g| RowGroupRanges {
                rows: f.metadata().row_group(g).num_rows().max(0) as u64,
                index: f.ranges(g, &index),
                features: f.ranges(g, &features),
            })
            .collect();
        let meta = footer_metadata(f.metadata().file_metadata());
        Ok(FileLayout {
            row_groups,
            model: meta.get(META_MODEL).cloned(),
            dim: meta.get(META_DIM).cloned(),
        })
    })
}

/// Every row's image and label, from the `index` ranges of every row group.
pub fn read_index(
    path: &Path,
    file_len: u64,
    footer: &[u8],
    fetched: Fetched,
) -> Result<(Vec<String>, Vec<String>)> {
    catch_reader_panic(path, || {
        let f = Footer::parse(path, file_len, footer)?;
        let groups = (0..f.metadata().num_row_groups()).collect();
        let (mut images, mut labels) = (Vec::new(), Vec::new());
        for batch in f.reader(path, fetched, groups, &["image", "label"])? {
            let batch = batch.map_err(|e| pq_err(path, e))?;
            let row0 = images.len();
            append_strings(path, &batch, "image", row0, &mut images)?;
            append_strings(path, &batch, "label", row0, &mut labels)?;
        }
        Ok((images, labels))
    })
}

/// The `features` of row group `group`, row-major, from its `features` ranges: each
/// row has the same number of values, none null or infinite. Errors name the row by
/// its number in the file.
pub fn read_features(
    path: &Path,
    file_len: u64,
    footer: &[u8],
    fetched: Fetched,
    group: usize,
) -> Result<Vec<f32>> {
    catch_reader_panic(path, || {
        let f = Footer::parse(path, file_len, footer)?;
        if group >= f.metadata().num_row_groups() {
            return Err(pq_err(
                path,
                format!(
                    "row group {group} asked for, the file has {}",
                    f.metadata().num_row_groups()
                ),
            ));
        }
        let first = f.first_row(group);
        let (mut dim, mut out) = (None, Vec::new());
        for batch in f.reader(path, fetched, vec![group], &["features"])? {
            let batch = batch.map_err(|e| pq_err(path, e))?;
            let col = batch.column_by_name("features").expect("projected");
            let row0 = first + out.len() / dim.unwrap_or(1).max(1);
            append_features(path, col, row0, |_| String::new(), &mut dim, &mut out)?;
        }
        if let (Some(d), Some(at)) = (dim, out.iter().position(|v| !v.is_finite())) {
            return Err(PawsError::NonFinite {
                path: path.to_path_buf(),
                location: format!(
                    "column 'features', row {}, feature index {}",
                    first + at / d,
                    at % d
                ),
                what: "feature value",
                value: out[at].to_string(),
            });
        }
        Ok(out)
    })
}

/// The byte ranges a caller fetched, standing in for the file: reading outside them is
/// an error (it would mean the footer's ranges were not what was fetched).
#[derive(Debug, Clone, Default)]
pub struct Fetched {
    file_len: u64,
    pieces: Vec<(u64, Bytes)>,
}

impl Fetched {
    pub fn new(file_len: u64) -> Self {
        Fetched {
            file_len,
            pieces: Vec::new(),
        }
    }

    /// The bytes from `start` on (a `Vec<u8>` or `Bytes`).
    pub fn add(&mut self, start: u64, bytes: impl Into<Bytes>) {
        self.pieces.push((start, bytes.into()));
    }

    fn piece(&self, start: u64, length: u64) -> std::result::Result<Bytes, ParquetError> {
        self.pieces
            .iter()
            .find(|(s, b)| *s <= start && start + length <= s + b.len() as u64)
            .map(|(s, b)| b.slice((start - s) as usize..(start - s + length) as usize))
            .ok_or_else(|| {
                ParquetError::General(format!(
                    "bytes {start}..{} of the file were not fetched",
                    start + length
                ))
            })
    }
}

impl Length for Fetched {
    fn len(&self) -> u64 {
        self.file_len
    }
}

impl ChunkReader for Fetched {
    type T = bytes::buf::Reader<Bytes>;

    fn get_read(&self, start: u64) -> std::result::Result<Self::T, ParquetError> {
        // To the end of the piece that holds `start`.
        let (s, b) = self
            .pieces
            .iter()
            .find(|(s, b)| *s <= start && start < s + b.len() as u64)
            .ok_or_else(|| {
                ParquetError::General(format!("byte {start} of the file was not fetched"))
            })?;
        Ok(b.slice((start - s) as usize..).reader())
    }

    fn get_bytes(&self, start: u64, length: usize) -> std::result::Result<Bytes, ParquetError> {
        self.piece(start, length as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::dataset::{Dataset, Extractor};
    use crate::data::parquet_io::{read_parquet, write_parquet, ROW_GROUP_ROWS};

    fn sample(rows: usize, dim: usize) -> Dataset {
        let features = (0..rows * dim).map(|i| (i % 97) as f32 * 0.5).collect();
        let images = (0..rows).map(|i| format!("img_{i}.jpg")).collect();
        let breeds = (0..rows).map(|i| format!("b{}", i % 3)).collect();
        let ext = Extractor {
            model: "m".into(),
            dim,
        };
        Dataset::new(dim, features, images, breeds, ext, "t").unwrap()
    }

    fn fetch(bytes: &Bytes, ranges: &Ranges) -> Fetched {
        let mut f = Fetched::new(bytes.len() as u64);
        for &(s, l) in ranges {
            f.add(s, bytes.slice(s as usize..(s + l) as usize));
        }
        f
    }

    fn footer_of(bytes: &Bytes, path: &Path) -> Bytes {
        let n = bytes.len();
        let len = footer_len(path, n as u64, &bytes[n - TAIL_LEN..]).unwrap();
        bytes.slice(n - TAIL_LEN - len..n - TAIL_LEN)
    }

    #[test]
    fn pieces_read_what_the_whole_file_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.parquet");
        let rows = 2 * ROW_GROUP_ROWS + 37;
        write_parquet(&path, &sample(rows, 5)).unwrap();
        let whole = read_parquet(&path).unwrap();
        let bytes = Bytes::from(std::fs::read(&path).unwrap());
        let footer = footer_of(&bytes, &path);
        let n = bytes.len() as u64;

        let l = layout(&path, n, &footer).unwrap();
        assert_eq!(l.row_groups.len(), 3);
        assert_eq!(l.model.as_deref(), Some("m"));
        assert_eq!(l.dim.as_deref(), Some("5"));
        let all_index: Ranges = l.row_groups.iter().flat_map(|g| g.index.clone()).collect();
        let (images, labels) = read_index(&path, n, &footer, fetch(&bytes, &all_index)).unwrap();
        assert_eq!(images, whole.images());
        assert_eq!(
            labels,
            (0..rows).map(|i| whole.breed(i)).collect::<Vec<_>>()
        );

        let mut features = Vec::new();
        for (g, rg) in l.row_groups.iter().enumerate() {
            let x = read_features(&path, n, &footer, fetch(&bytes, &rg.features), g).unwrap();
            assert_eq!(x.len() as u64, rg.rows * 5);
            features.extend(x);
        }
        assert_eq!(features, whole.features());

        // Only the fetched bytes are read: features from the index ranges fail, named.
        let e = read_features(&path, n, &footer, fetch(&bytes, &l.row_groups[1].index), 1)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("were not fetched") || e.contains("was not fetched"),
            "{e}"
        );
        let e = read_features(&path, n, &footer, Fetched::new(n), 3).unwrap_err();
        assert!(
            e.to_string()
                .contains("row group 3 asked for, the file has 3"),
            "{e}"
        );
    }

    /// A file `write_parquet` would refuse: value `nan_at` is NaN.
    fn write_with_nan(path: &Path, rows: usize, dim: usize, nan_at: usize) {
        use arrow_array::builder::{FixedSizeListBuilder, Float32Builder};
        use arrow_array::{ArrayRef, RecordBatch, StringArray};
        let mut list = FixedSizeListBuilder::new(Float32Builder::new(), dim as i32);
        for i in 0..rows * dim {
            list.values()
                .append_value(if i == nan_at { f32::NAN } else { 1.0 });
            if i % dim == dim - 1 {
                list.append(true);
            }
        }
        let names: Vec<String> = (0..rows).map(|i| format!("b_{i}.jpg")).collect();
        let columns: Vec<(&str, ArrayRef)> = vec![
            ("image", Arc::new(StringArray::from(names.clone()))),
            ("label", Arc::new(StringArray::from(names))),
            ("features", Arc::new(list.finish())),
        ];
        let batch = RecordBatch::try_from_iter(columns).unwrap();
        let file = std::fs::File::create(path).unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }

    /// A paws file whose `label` dictionary page header declares 63 values for its three
    /// breeds (18 bytes): both readers refuse it by name before decoding the page (the
    /// crate would reserve room for every declared value first, see `parquet_pages`).
    #[test]
    fn a_dictionary_declaring_more_values_than_its_bytes_is_refused_by_both_readers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.parquet");
        write_parquet(&path, &sample(30, 2)).unwrap();
        let mut raw = std::fs::read(&path).unwrap();
        let footer = footer_of(&Bytes::from(raw.clone()), &path);
        let l = layout(&path, raw.len() as u64, &footer).unwrap();
        let meta = parquet_footer::decode(&path, &footer).unwrap();
        let label = (0..meta.file_metadata().schema_descr().num_columns())
            .find(|&i| meta.file_metadata().schema_descr().column(i).name() == "label")
            .unwrap();
        let start = meta
            .row_group(0)
            .column(label)
            .dictionary_page_offset()
            .unwrap() as usize;
        // The page header (Thrift compact): field 7, the dictionary page header (a struct:
        // 0x?C), then its field 1, num_values (an i32: 0x15), a one-byte zigzag varint.
        let at = (start..start + 24)
            .find(|&i| raw[i] & 0x0f == 0x0c && raw[i + 1] == 0x15)
            .expect("a dictionary page header")
            + 2;
        assert_eq!(raw[at], 6, "the three breeds' dictionary (zigzag 3)");
        raw[at] = 0x7e; // 63 values
        let bytes = Bytes::from(raw);
        let n = bytes.len() as u64;

        let e = read_index(&path, n, &footer, fetch(&bytes, &l.row_groups[0].index)).unwrap_err();
        let e = e.to_string();
        assert!(
            e.contains("corrupt dictionary page")
                && e.contains("column \"label\" declares 63 values"),
            "{e}"
        );
        let e = crate::data::parquet_io::read_parquet_bytes(&path, bytes.to_vec()).unwrap_err();
        assert!(e.to_string().contains("corrupt dictionary page"), "{e}");
    }

    #[test]
    fn bad_footers_and_values_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.parquet");
        write_with_nan(&path, 10, 3, 7 * 3 + 2);
        let bytes = Bytes::from(std::fs::read(&path).unwrap());
        let n = bytes.len() as u64;
        let footer = footer_of(&bytes, &path);
        let l = layout(&path, n, &footer).unwrap();
        let e = read_features(
            &path,
            n,
            &footer,
            fetch(&bytes, &l.row_groups[0].features),
            0,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("row 7, feature index 2") && e.contains("NaN"),
            "{e}"
        );

        let e = footer_len(&path, n, b"12345678").unwrap_err().to_string();
        assert!(e.contains("f.parquet"), "{e}");
        let e = footer_len(&path, 20, &bytes[bytes.len() - TAIL_LEN..]).unwrap_err();
        assert!(e.to_string().contains("the file has 20"), "{e}");
        let e = layout(&path, n, &footer[1..]).unwrap_err().to_string();
        assert!(e.contains("f.parquet"), "{e}");
        // A footer whose ranges lie past the end of the (claimed) file.
        let e = layout(&path, footer.len() as u64 + 20, &footer).unwrap_err();
        assert!(e.to_string().contains("outside the file"), "{e}");
    }
}
