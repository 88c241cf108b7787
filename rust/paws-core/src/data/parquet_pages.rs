//! The dictionary pages of a Parquet file, checked before the `parquet` crate decodes
//! them.
//!
//! Why: the crate (60.1) sizes a column's dictionary by its page header's `num_values`
//! before it reads a value: `reserve(num_values)` offsets for strings
//! (`ByteArrayColumnValueDecoder::set_dict`), `resize(num_values)` for numbers
//! (`DictDecoder::set_dict`). A 1,311-byte file whose `label` dictionary declared
//! 1.34 billion values made it ask for 5.4 GB at once (the parquet fuzzer's fifth
//! out-of-memory input; under an address-space limit, as on a container, that aborts
//! the process). A dictionary page is PLAIN-encoded, so each of its values takes at
//! least a fixed number of bits of the decoded page (a string: its 4-byte length). More
//! values than the page can hold is corruption, refused here by name; a valid file
//! never declares it, so nothing readable is refused.
//!
//! The check reads the page headers of the column chunks a reader will read (cheap: a
//! few bytes a page) and decodes only dictionary pages, which the reader decodes anyway.

use crate::data::error::Result;
use crate::data::parquet_io::pq_err;
use bytes::Bytes;
use parquet::basic::Type as PhysicalType;
use parquet::column::page::{Page, PageReader};
use parquet::errors::ParquetError;
use parquet::file::metadata::{ColumnChunkMetaData, ParquetMetaData};
use parquet::file::reader::{ChunkReader, Length};
use parquet::file::serialized_reader::SerializedPageReader;
use std::path::Path;
use std::sync::Arc;

/// A [`ChunkReader`] shared between the check and the reader after it (the page reader
/// takes an `Arc`, the record-batch reader a value).
pub struct Shared<C>(pub Arc<C>);

impl<C: Length> Length for Shared<C> {
    fn len(&self) -> u64 {
        self.0.len()
    }
}

impl<C: ChunkReader> ChunkReader for Shared<C> {
    type T = C::T;

    fn get_read(&self, start: u64) -> std::result::Result<Self::T, ParquetError> {
        self.0.get_read(start)
    }

    fn get_bytes(&self, start: u64, length: usize) -> std::result::Result<Bytes, ParquetError> {
        self.0.get_bytes(start, length)
    }
}

/// Refuses a dictionary page in leaf columns `leaves` of row groups `groups` that
/// declares more values than its decoded bytes can hold.
pub fn check_dictionaries<C: ChunkReader + 'static>(
    path: &Path,
    input: &Arc<C>,
    metadata: &ParquetMetaData,
    groups: &[usize],
    leaves: &[usize],
) -> Result<()> {
    for &g in groups {
        let rg = metadata.row_group(g);
        let rows = usize::try_from(rg.num_rows()).unwrap_or(0);
        for &c in leaves {
            let column = rg.column(c);
            let err = |e: ParquetError| pq_err(path, e);
            let mut pages =
                SerializedPageReader::new(input.clone(), column, rows, None).map_err(err)?;
            while let Some(page) = pages.peek_next_page().map_err(err)? {
                if !page.is_dict {
                    pages.skip_next_page().map_err(err)?;
                    continue;
                }
                if let Some(Page::DictionaryPage {
                    buf, num_values, ..
                }) = pages.get_next_page().map_err(err)?
                {
                    check_page(path, g, column, buf.len(), num_values)?;
                }
            }
        }
    }
    Ok(())
}

/// How many PLAIN-encoded values of a column `physical` (of `type_length`, for fixed-length
/// byte arrays) `bytes` bytes can hold at most: a value takes at least a bit (a
/// boolean), its width (numbers, fixed-length arrays) or its 4-byte length (a string).
fn most_values(bytes: usize, physical: PhysicalType, type_length: i32) -> u64 {
    let bits = match physical {
        PhysicalType::BOOLEAN => 1,
        PhysicalType::INT32 | PhysicalType::FLOAT | PhysicalType::BYTE_ARRAY => 32,
        PhysicalType::INT64 | PhysicalType::DOUBLE => 64,
        PhysicalType::INT96 => 96,
        PhysicalType::FIXED_LEN_BYTE_ARRAY => 8 * u64::try_from(type_length.max(1)).unwrap_or(1),
    };
    bytes as u64 * 8 / bits
}

fn check_page(
    path: &Path,
    group: usize,
    column: &ColumnChunkMetaData,
    bytes: usize,
    values: u32,
) -> Result<()> {
    let descr = column.column_descr();
    let room = most_values(bytes, descr.physical_type(), descr.type_length());
    if u64::from(values) <= room {
        return Ok(());
    }
    Err(pq_err(
        path,
        format!(
            "corrupt dictionary page: row group {group}, column {} declares {values} values \
             in {bytes} bytes, which hold at most {room}",
            column.column_path()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::dataset::{Dataset, Extractor};
    use crate::data::parquet_io::{read_parquet_bytes, write_parquet};

    #[test]
    fn a_page_holds_as_many_values_as_their_smallest_encoding_fits() {
        assert_eq!(most_values(12, PhysicalType::BYTE_ARRAY, 0), 3);
        assert_eq!(most_values(11, PhysicalType::BYTE_ARRAY, 0), 2);
        assert_eq!(most_values(3, PhysicalType::BOOLEAN, 0), 24);
        assert_eq!(most_values(16, PhysicalType::DOUBLE, 0), 2);
        assert_eq!(most_values(24, PhysicalType::INT96, 0), 2);
        assert_eq!(most_values(20, PhysicalType::FIXED_LEN_BYTE_ARRAY, 5), 4);
        assert_eq!(most_values(20, PhysicalType::FIXED_LEN_BYTE_ARRAY, 0), 20);
        assert_eq!(most_values(0, PhysicalType::FLOAT, 0), 0);
    }

    /// paws' own files dictionary-encode their string columns: every dictionary passes,
    /// and the file reads.
    #[test]
    fn a_valid_files_dictionaries_pass() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.parquet");
        let (rows, dim) = (300, 4);
        let ext = Extractor {
            model: "m".into(),
            dim,
        };
        let data = Dataset::new(
            dim,
            (0..rows * dim).map(|i| i as f32).collect(),
            (0..rows).map(|i| format!("img_{i}.jpg")).collect(),
            (0..rows).map(|i| format!("b{}", i % 3)).collect(),
            ext,
            "t",
        )
        .unwrap();
        write_parquet(&path, &data).unwrap();
        let bytes = Bytes::from(std::fs::read(&path).unwrap());
        let input = Arc::new(bytes.clone());
        let meta = crate::data::parquet_footer::read(&path, &*input).unwrap();
        let leaves: Vec<usize> = (0..meta.file_metadata().schema_descr().num_columns()).collect();
        let groups: Vec<usize> = (0..meta.num_row_groups()).collect();
        let dictionaries = groups
            .iter()
            .flat_map(|&g| leaves.iter().map(move |&c| (g, c)))
            .filter(|&(g, c)| {
                meta.row_group(g)
                    .column(c)
                    .dictionary_page_offset()
                    .is_some()
            })
            .count();
        assert!(dictionaries > 0, "the test file has no dictionary page");
        check_dictionaries(&path, &input, &meta, &groups, &leaves).unwrap();
        assert_eq!(
            read_parquet_bytes(&path, bytes.to_vec()).unwrap().len(),
            rows
        );
    }
}
