//! A Parquet file's footer, checked before the `parquet` crate decodes it.
//!
//! The crate (60.1.0) trusts one number of the footer too far: a schema element's
//! `num_children` becomes `Vec::with_capacity(num_children)` before any child is read,
//! so a 1 KB footer declaring 1.1 billion children asks for 8.9 GB (the parquet fuzzer
//! found it). Where Linux overcommits memory that ends in the crate's own error; under
//! an address-space limit (`ulimit -v`, a container's limit) the allocation fails and
//! the process aborts, which no `catch_unwind` can catch and which would kill a Spark
//! executor. The crate also converts the schema recursively, one stack frame per level,
//! so a footer nesting a hundred thousand groups would overflow a thread's stack.
//!
//! [`decode`] therefore walks the footer first ([`schema_shape_error`]) and refuses a
//! schema group that declares more children than elements follow it, a schema nested
//! deeper than [`MAX_SCHEMA_DEPTH`], or bytes it cannot read before the schema; the rest
//! is the crate's to decode and judge. The walk must see what the crate sees, so up to
//! the schema it reads every field as the crate's readers do (tables of the structs
//! below). The crate keeps its Thrift decoder private, and the `thrift` crate's decoder
//! allocates a declared string length before reading it (up to 4 GB), so the walk is
//! its own small reader of the Thrift compact protocol over the footer's bytes, reading
//! only what it needs and never allocating by a declared size.

use crate::data::error::Result;
use crate::data::parquet_io::pq_err;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::file::metadata::{FooterTail, ParquetMetaData, ParquetMetaDataReader};
use parquet::file::reader::ChunkReader;
use std::path::Path;

/// Bytes at the end of every Parquet file: the footer's length and the magic `PAR1`.
pub const TAIL_LEN: usize = 8;

/// Deeper than any schema paws reads (three levels) or Spark writes for nested
/// columns, and far below what overflows a 1 MB thread stack in the crate's recursion.
pub const MAX_SCHEMA_DEPTH: usize = 100;

/// The footer's length from the file's last [`TAIL_LEN`] bytes.
pub fn footer_len(path: &Path, file_len: u64, tail: &[u8]) -> Result<usize> {
    let tail = FooterTail::try_from(tail).map_err(|e| pq_err(path, e))?;
    if tail.is_encrypted_footer() {
        return Err(pq_err(path, "encrypted Parquet files are not supported"));
    }
    let len = tail.metadata_length();
    if len as u64 + TAIL_LEN as u64 > file_len {
        return Err(pq_err(
            path,
            format!("the footer claims {len} bytes, the file has {file_len}"),
        ));
    }
    Ok(len)
}

/// The footer's bytes (without the tail), decoded after the schema's shape is checked.
pub fn decode(path: &Path, footer: &[u8]) -> Result<ParquetMetaData> {
    if let Some(why) = schema_shape_error(footer) {
        return Err(pq_err(path, format!("corrupt footer: {why}")));
    }
    ParquetMetaDataReader::decode_metadata(footer).map_err(|e| pq_err(path, e))
}

/// The Arrow view of a decoded footer that paws' readers build their record batches
/// from: the Parquet schema's own types, never the `ARROW:schema` hint that Arrow
/// writers store in the footer's key-value metadata. The crate's reader sizes its
/// buffers by a hint's `fixed_size_list` length before it reads a value: the parquet
/// fuzzer's 2 KB file declared 134 million floats a row and had `paws experiment`
/// allocate and fill 17.8 GB for 42 s (under an address-space limit, an allocation
/// failure). Without the hint `features` is a list whose buffers grow with the values
/// actually decoded; paws' readers take either kind of list.
pub fn arrow_metadata(path: &Path, meta: ParquetMetaData) -> Result<ArrowReaderMetadata> {
    let options = ArrowReaderOptions::new().with_skip_arrow_metadata(true);
    ArrowReaderMetadata::try_new(std::sync::Arc::new(meta), options).map_err(|e| pq_err(path, e))
}

/// A whole file's footer, read from `input` and decoded as [`decode`] does.
pub fn read<R: ChunkReader>(path: &Path, input: &R) -> Result<ParquetMetaData> {
    let file_len = input.len();
    if file_len < TAIL_LEN as u64 {
        return Err(pq_err(
            path,
            format!("{file_len} bytes are too few for a Parquet file"),
        ));
    }
    let tail = input
        .get_bytes(file_len - TAIL_LEN as u64, TAIL_LEN)
        .map_err(|e| pq_err(path, e))?;
    let len = footer_len(path, file_len, &tail)?;
    let footer = input
        .get_bytes(file_len - (TAIL_LEN + len) as u64, len)
        .map_err(|e| pq_err(path, e))?;
    decode(path, &footer)
}

/// Why the footer's schema cannot be decoded safely, if it cannot.
///
/// `FileMetaData`'s field 2 is the schema, a list of `SchemaElement`s in depth-first
/// order whose field 5 is `num_children`. The crate builds its schema from the first
/// field 2 as soon as it has read it, so the walk must see exactly the bytes the crate
/// sees up to there: it reads every field the crate knows by the type the crate's
/// schema gives it, whatever type the field's header says (the fuzzer found a
/// `num_children` whose header said i64: skipped by an earlier walk, read by the
/// crate), skips the fields the crate does not know as the crate skips them, and ends
/// a struct where the crate does (at any header whose type is 0: a footer whose
/// logical type held such a header stopped an earlier walk and went on to the crate's
/// 8.9 GB). Bytes the walk cannot read before the schema is checked are refused, not
/// handed on: the crate would stop there too, or read something the walk did not see.
///
/// The rest of the footer is walked by skipping, and a list, set or map that declares
/// more elements than the bytes left can hold is refused: the crate skips a field it
/// does not know by looping over its declared length, and takes a container's boolean
/// elements as zero bytes, so a map of booleans declaring 757 million entries cost
/// seconds of CPU (and nested ones would multiply that) before an error.
pub fn schema_shape_error(footer: &[u8]) -> Option<String> {
    let mut input = Compact {
        bytes: footer,
        pos: 0,
        too_long: None,
    };
    let mut schema_checked = false;
    match walk_file_metadata(&mut input, &mut schema_checked) {
        Ok(why) => why,
        Err(Malformed) => input.too_long.take().or_else(|| {
            (!schema_checked).then(|| {
                format!(
                    "not readable as Parquet's Thrift metadata at byte {} of {}",
                    input.pos,
                    footer.len()
                )
            })
        }),
    }
}

/// `FileMetaData`, field by field: `Ok(Some(why))` for a shape to refuse;
/// `schema_checked` turns true once the crate would have built its schema.
fn walk_file_metadata(
    input: &mut Compact,
    schema_checked: &mut bool,
) -> std::result::Result<Option<String>, Malformed> {
    let mut last_id = 0;
    while let Some((id, kind)) = input.field_header(&mut last_id)? {
        if *schema_checked {
            // The crate has its schema (a second field 2 is skipped); what follows
            // matters only to the skip loops.
            input.skip(kind, 0)?;
            continue;
        }
        match id {
            2 => {
                if let Some(why) = check_schema(input)? {
                    return Ok(Some(why));
                }
                *schema_checked = true;
            }
            // Row groups before the schema: the crate stops ("Required field schema is
            // missing") before it reads them.
            4 => return Ok(None),
            _ => input.read_field(FILE_METADATA, id, kind, 0)?,
        }
    }
    Ok(None)
}

/// Reads the schema list: `Ok(Some(why))` for a shape to refuse.
fn check_schema(input: &mut Compact) -> std::result::Result<Option<String>, Malformed> {
    let (kind, count) = input.list_header()?;
    // The crate refuses a schema list of anything but structs.
    if count > 0 && kind != STRUCT {
        return Err(Malformed);
    }
    // Children still to come of each open group, innermost last.
    let mut open: Vec<u64> = Vec::new();
    for index in 0..count {
        if let Some(left) = open.last_mut() {
            *left -= 1;
        }
        let children = input.schema_element_children()?;
        let after = count - index - 1;
        if children > after {
            let follow = if after == 1 { "follows" } else { "follow" };
            return Ok(Some(format!(
                "schema element {index} declares {children} children, {after} {} {follow} it",
                if after == 1 { "element" } else { "elements" }
            )));
        }
        if children > 0 {
            open.push(children);
            if open.len() > MAX_SCHEMA_DEPTH {
                return Ok(Some(format!(
                    "the schema nests deeper than {MAX_SCHEMA_DEPTH} levels"
                )));
            }
        }
        while open.last() == Some(&0) {
            open.pop();
        }
    }
    Ok(None)
}

/// Bytes that are not the Thrift compact protocol (or end too soon).
#[derive(Debug)]
struct Malformed;

// Thrift compact protocol types (thrift-compact-protocol.md).
const BOOL_TRUE: u8 = 1;
const BOOL_FALSE: u8 = 2;
const BYTE: u8 = 3;
const I16: u8 = 4;
const I32: u8 = 5;
const I64: u8 = 6;
const DOUBLE: u8 = 7;
const BINARY: u8 = 8;
const LIST: u8 = 9;
const SET: u8 = 10;
const MAP: u8 = 11;
const STRUCT: u8 = 12;
const UUID: u8 = 13;

/// Whether a container's element type is a boolean (a byte on the wire, none in the
/// crate's skip).
fn is_bool(kind: u8) -> bool {
    kind == BOOL_TRUE || kind == BOOL_FALSE
}

/// How the crate reads a field it knows (its reader, not the field's header, decides).
#[derive(Clone, Copy)]
enum Shape {
    /// i16, i32, i64 or an enum: a varint.
    Int,
    /// i8: one byte.
    Byte,
    /// A bool: the value is the header's type, no bytes follow.
    Bool,
    /// A string or binary: a varint length, then the bytes.
    Binary,
    /// A union's variant without fields: one byte, which must be 0.
    Empty,
    /// A struct or union: its known fields, the others skipped.
    Struct(&'static [(i16, Shape)]),
    /// A list of such structs.
    List(&'static [(i16, Shape)]),
}

use Shape::{Binary, Bool, Byte, Empty, Int, List, Struct};

// The structs that the crate (parquet 60.1.0, without its encryption feature) reads up to
// and including the schema, with the fields it knows (parquet.thrift; the crate's
// `thrift_struct!`/`thrift_union!` definitions). Field 2 (the schema) and 4 (row groups)
// of FileMetaData are handled by the walk itself.
const FILE_METADATA: &[(i16, Shape)] = &[
    (1, Int),
    (3, Int),
    (5, List(KEY_VALUE)),
    (6, Binary),
    (7, List(COLUMN_ORDER)),
];
const KEY_VALUE: &[(i16, Shape)] = &[(1, Binary), (2, Binary)];
const COLUMN_ORDER: &[(i16, Shape)] = &[(1, Empty), (2, Empty), (3, Empty)];
const SCHEMA_ELEMENT: &[(i16, Shape)] = &[
    (1, Int),
    (2, Int),
    (3, Int),
    (4, Binary),
    (5, Int),
    (6, Int),
    (7, Int),
    (8, Int),
    (9, Int),
    (10, Struct(LOGICAL_TYPE)),
];
const LOGICAL_TYPE: &[(i16, Shape)] = &[
    (1, Empty),
    (2, Empty),
    (3, Empty),
    (4, Empty),
    (5, Struct(DECIMAL)),
    (6, Empty),
    (7, Struct(TIMESTAMP)),
    (8, Struct(TIMESTAMP)),
    (10, Struct(INT_TYPE)),
    (11, Empty),
    (12, Empty),
    (13, Empty),
    (14, Empty),
    (15, Empty),
    (16, Struct(VARIANT)),
    (17, Struct(GEOMETRY)),
    (18, Struct(GEOGRAPHY)),
    (19, Empty),
];
const DECIMAL: &[(i16, Shape)] = &[(1, Int), (2, Int)];
const TIMESTAMP: &[(i16, Shape)] = &[(1, Bool), (2, Struct(TIME_UNIT))];
const TIME_UNIT: &[(i16, Shape)] = &[(1, Empty), (2, Empty), (3, Empty)];
const INT_TYPE: &[(i16, Shape)] = &[(1, Byte), (2, Bool)];
const VARIANT: &[(i16, Shape)] = &[(1, Byte)];
const GEOMETRY: &[(i16, Shape)] = &[(1, Binary)];
const GEOGRAPHY: &[(i16, Shape)] = &[(1, Binary), (2, Int)];

/// Nesting of Thrift values the walk follows, as the crate's skip (64 levels).
const MAX_THRIFT_DEPTH: u32 = 64;

/// A reader of the Thrift compact protocol over a byte slice.
struct Compact<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Why the walk stopped at a container too long for the bytes left (refused), where
    /// other malformed bytes after the schema are left to the crate.
    too_long: Option<String>,
}

impl Compact<'_> {
    fn byte(&mut self) -> std::result::Result<u8, Malformed> {
        let b = *self.bytes.get(self.pos).ok_or(Malformed)?;
        self.pos += 1;
        Ok(b)
    }

    fn advance(&mut self, n: u64) -> std::result::Result<(), Malformed> {
        let left = (self.bytes.len() - self.pos) as u64;
        if n > left {
            return Err(Malformed);
        }
        self.pos += n as usize;
        Ok(())
    }

    /// A ULEB128 varint of any length, read as the crate reads it (bits past 64 wrap),
    /// so that the walk sees the numbers the crate will see.
    fn varint(&mut self) -> std::result::Result<u64, Malformed> {
        let (mut value, mut shift) = (0u64, 0u32);
        loop {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f).wrapping_shl(shift);
            if b & 0x80 == 0 {
                return Ok(value);
            }
            shift = shift.wrapping_add(7);
        }
    }

    fn zigzag(&mut self) -> std::result::Result<i64, Malformed> {
        let v = self.varint()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    /// The next field's id and type, or `None` at the struct's end: as the crate, any
    /// header whose type bits are 0 ends the struct.
    fn field_header(
        &mut self,
        last_id: &mut i16,
    ) -> std::result::Result<Option<(i16, u8)>, Malformed> {
        let b = self.byte()?;
        if b & 0x0f == 0 {
            return Ok(None);
        }
        let delta = i16::from(b >> 4);
        *last_id = if delta == 0 {
            self.zigzag()? as i16
        } else {
            last_id.checked_add(delta).ok_or(Malformed)?
        };
        Ok(Some((*last_id, b & 0x0f)))
    }

    /// A list's (or set's) element type and length, as the crate reads them (a header
    /// byte of 0 is an empty list; a length past `i32::MAX` is malformed); every
    /// element takes at least a byte, so a length beyond the bytes left is malformed
    /// (refused for booleans, which the crate's skip loops over without reading).
    fn list_header(&mut self) -> std::result::Result<(u8, u64), Malformed> {
        let at = self.pos;
        let b = self.byte()?;
        if b == 0 {
            return Ok((BYTE, 0));
        }
        let count = match b >> 4 {
            15 => self.varint()?,
            short => u64::from(short),
        };
        if count > i32::MAX as u64 || !is_element(b & 0x0f) {
            return Err(Malformed);
        }
        self.fits(at, "list", count, count, is_bool(b & 0x0f))?;
        Ok((b & 0x0f, count))
    }

    /// A container at byte `at` of `count` elements needing at least `bytes` that the
    /// bytes left cannot hold is malformed; refused when the crate's skip would loop over
    /// its elements without reading (`free`: booleans).
    fn fits(
        &mut self,
        at: usize,
        what: &str,
        count: u64,
        bytes: u64,
        free: bool,
    ) -> std::result::Result<(), Malformed> {
        let left = (self.bytes.len() - self.pos) as u64;
        if bytes > left {
            if free {
                self.too_long = Some(format!(
                    "a Thrift {what} at byte {at} declares {count} elements, {left} bytes follow it"
                ));
            }
            return Err(Malformed);
        }
        Ok(())
    }

    /// One `SchemaElement`'s `num_children` (field 5, an i32: the crate truncates the
    /// varint's value as here; absent or negative counts as none, which the crate then
    /// refuses or reads as a leaf).
    fn schema_element_children(&mut self) -> std::result::Result<u64, Malformed> {
        let (mut last_id, mut children) = (0, 0);
        while let Some((id, kind)) = self.field_header(&mut last_id)? {
            if id == 5 {
                children = u64::try_from(self.zigzag()? as i32).unwrap_or(0);
            } else {
                self.read_field(SCHEMA_ELEMENT, id, kind, 1)?;
            }
        }
        Ok(children)
    }

    /// Field `id` (header type `kind`) of a struct whose known fields are `known`: read
    /// as the crate reads it.
    fn read_field(
        &mut self,
        known: &[(i16, Shape)],
        id: i16,
        kind: u8,
        depth: u32,
    ) -> std::result::Result<(), Malformed> {
        match known.iter().find(|(known_id, _)| *known_id == id) {
            Some(&(_, shape)) => self.read(shape, depth),
            None => self.skip(kind, depth),
        }
    }

    /// One value of a known field, as the crate's reader for `shape` reads it.
    fn read(&mut self, shape: Shape, depth: u32) -> std::result::Result<(), Malformed> {
        if depth > MAX_THRIFT_DEPTH {
            return Err(Malformed);
        }
        match shape {
            Int => self.varint().map(drop),
            Byte => self.advance(1),
            Bool => Ok(()),
            Binary => {
                let len = self.varint()?;
                self.advance(len)
            }
            Empty => match self.byte()? {
                0 => Ok(()),
                _ => Err(Malformed),
            },
            Struct(known) => {
                let mut last_id = 0;
                while let Some((id, kind)) = self.field_header(&mut last_id)? {
                    self.read_field(known, id, kind, depth + 1)?;
                }
                Ok(())
            }
            List(known) => {
                let (kind, count) = self.list_header()?;
                if count > 0 && kind != STRUCT {
                    return Err(Malformed);
                }
                for _ in 0..count {
                    self.read(Struct(known), depth + 1)?;
                }
                Ok(())
            }
        }
    }

    /// Skips one value of type `kind` as the crate's skip does (a field's booleans live
    /// in its header; a container's boolean elements take no bytes there either).
    fn skip(&mut self, kind: u8, depth: u32) -> std::result::Result<(), Malformed> {
        if depth > MAX_THRIFT_DEPTH {
            return Err(Malformed);
        }
        match kind {
            BOOL_TRUE | BOOL_FALSE => Ok(()),
            BYTE => self.advance(1),
            I16 | I32 | I64 => self.varint().map(drop),
            DOUBLE => self.advance(8),
            UUID => self.advance(16),
            BINARY => {
                let len = self.varint()?;
                self.advance(len)
            }
            LIST | SET => {
                let (elem, count) = self.list_header()?;
                for _ in 0..count {
                    self.skip(elem, depth + 1)?;
                }
                Ok(())
            }
            MAP => {
                let at = self.pos;
                let count = self.varint()?;
                if count > i32::MAX as u64 {
                    return Err(Malformed);
                }
                if count == 0 {
                    return Ok(());
                }
                let kinds = self.byte()?;
                let (key, value) = (kinds >> 4, kinds & 0x0f);
                if !is_element(key) || !is_element(value) {
                    return Err(Malformed);
                }
                // A key and a value: two bytes at least, none for booleans in the skip.
                let free = is_bool(key) && is_bool(value);
                self.fits(at, "map", count, count.saturating_mul(2), free)?;
                for _ in 0..count {
                    self.skip(key, depth + 1)?;
                    self.skip(value, depth + 1)?;
                }
                Ok(())
            }
            STRUCT => {
                // The crate's skip reads each header as the struct's first (last id 0).
                loop {
                    let mut last_id = 0;
                    match self.field_header(&mut last_id)? {
                        Some((_, kind)) => self.skip(kind, depth + 1)?,
                        None => return Ok(()),
                    }
                }
            }
            _ => Err(Malformed),
        }
    }
}

/// A type a list, set or map element may have (1 and 2 both mean a boolean).
fn is_element(kind: u8) -> bool {
    (BOOL_TRUE..=UUID).contains(&kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A footer whose schema is `elements` (name, num_children) under field 2, after a
    /// version field and before a num_rows field, as writers order them.
    fn footer(elements: &[(&str, Option<i32>)]) -> Vec<u8> {
        let with_extras: Vec<_> = elements.iter().map(|&(n, c)| (n, c, &[][..])).collect();
        footer_with(&with_extras)
    }

    /// As [`footer`], each element followed by raw bytes (fields with full ids) before
    /// its end.
    fn footer_with(elements: &[(&str, Option<i32>, &[u8])]) -> Vec<u8> {
        let mut out = vec![0x15, 0x02]; // field 1, i32: version 1
        out.push(0x19); // field 2, list
        if elements.len() < 15 {
            out.push(((elements.len() as u8) << 4) | STRUCT);
        } else {
            out.push(0xf0 | STRUCT);
            push_varint(&mut out, elements.len() as u64);
        }
        for (name, children, extra) in elements {
            out.push(0x48); // field 4, binary
            push_varint(&mut out, name.len() as u64);
            out.extend_from_slice(name.as_bytes());
            if let Some(n) = children {
                out.push(0x15); // field 5, i32
                push_varint(&mut out, ((*n << 1) ^ (*n >> 31)) as u32 as u64);
            }
            out.extend_from_slice(extra);
            out.push(0); // end of the element
        }
        out.push(0x16); // field 3, i64: num_rows 0
        out.push(0);
        out.push(0); // end of FileMetaData
        out
    }

    fn push_varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    #[test]
    fn a_well_formed_schema_passes() {
        let schema = [
            ("schema", Some(2)),
            ("image", None),
            ("features", Some(1)),
            ("list", Some(1)),
            ("element", None),
        ];
        assert_eq!(schema_shape_error(&footer(&schema)), None);
    }

    #[test]
    fn more_children_than_elements_is_refused() {
        let why = schema_shape_error(&footer(&[("schema", Some(1_100_000_000)), ("a", None)]))
            .expect("refused");
        assert_eq!(
            why,
            "schema element 0 declares 1100000000 children, 1 element follows it"
        );
        let nested = [("schema", Some(1)), ("g", Some(3)), ("a", None)];
        assert!(schema_shape_error(&footer(&nested))
            .unwrap()
            .starts_with("schema element 1 declares 3 children"));
    }

    /// The fuzzer's input: `num_children` as a 7-byte varint, whose 64-bit zigzag value
    /// is negative but whose low 32 bits (what the crate keeps) are 1,116,015,124.
    #[test]
    fn an_overlong_varint_is_read_as_the_crate_reads_it() {
        let mut bytes = footer(&[("schema", Some(1)), ("list", Some(1)), ("a", None)]);
        let at = bytes.windows(2).rposition(|w| w == [0x15, 0x02]).unwrap();
        bytes.splice(at + 1..at + 2, [0xd7, 0xd7, 0xd7, 0xd7, 0xd7, 0xd7, 0x42]);
        assert_eq!(
            schema_shape_error(&bytes).as_deref(),
            Some("schema element 1 declares 1116015124 children, 1 element follows it")
        );
    }

    #[test]
    fn a_schema_deeper_than_the_limit_is_refused_and_one_at_it_passes() {
        let chain = |levels: usize| {
            let mut s: Vec<(&str, Option<i32>)> = vec![("g", Some(1)); levels];
            s.push(("leaf", None));
            footer(&s)
        };
        assert_eq!(schema_shape_error(&chain(MAX_SCHEMA_DEPTH)), None);
        assert_eq!(
            schema_shape_error(&chain(MAX_SCHEMA_DEPTH + 1)).as_deref(),
            Some("the schema nests deeper than 100 levels")
        );
    }

    /// Without the check, the crate's schema conversion overflows a 1 MB stack (an
    /// executor thread's size) at 10,000 levels and aborts the process (measured on
    /// parquet 60.1.0: 1,000 levels pass, 10,000 abort).
    #[test]
    fn a_schema_nested_ten_thousand_deep_is_a_named_error_on_a_small_stack() {
        let mut schema: Vec<(&str, Option<i32>)> = vec![("g", Some(1)); 10_000];
        schema.push(("leaf", None));
        let bytes = footer(&schema);
        let got = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || decode(Path::new("deep.parquet"), &bytes).map(|_| ()))
            .unwrap()
            .join()
            .expect("the decode panicked");
        let msg = got.expect_err("decoded").to_string();
        assert!(msg.contains("deep.parquet"), "{msg}");
        assert!(msg.contains("nests deeper than 100 levels"), "{msg}");
    }

    #[test]
    fn bytes_it_cannot_read_before_the_schema_are_refused_and_after_it_left_to_the_crate() {
        let good = footer(&[("schema", Some(1)), ("a", None)]);
        // The schema list ends before num_rows' header (0x16, three bytes from the end).
        let schema_end = good.len() - 3;
        for cut in 0..good.len() {
            let why = schema_shape_error(&good[..cut]);
            if cut < schema_end {
                let why = why.unwrap_or_else(|| panic!("cut at {cut} passed"));
                assert!(
                    why.starts_with("not readable as Parquet's Thrift metadata at byte ")
                        && why.ends_with(&format!(" of {cut}")),
                    "{why}"
                );
            } else {
                assert_eq!(why, None, "cut at {cut}");
            }
        }
        assert!(schema_shape_error(&[0xff; 64]).is_some());
        assert!(schema_shape_error(&[]).is_some());
    }

    /// A field header with a full id: type `kind`, id `id` as a zigzag varint.
    fn full_header(kind: u8, id: i16) -> Vec<u8> {
        let mut out = vec![kind];
        push_varint(&mut out, ((id << 1) ^ (id >> 15)) as u16 as u64);
        out
    }

    /// A root with one child group "g" (its fields after the name: `extra`) holding one
    /// leaf.
    fn group_then_leaf(extra: &[u8]) -> Vec<u8> {
        footer_with(&[
            ("schema", Some(1), &[]),
            ("g", None, extra),
            ("a", None, &[]),
        ])
    }

    /// The fuzzer's third input: inside a logical type, a header byte 0x40 (field delta 4,
    /// type 0). The crate ends the struct at any header of type 0; an earlier walk took it
    /// for a field, gave up, and the crate went on to a `num_children` of 1.1 billion.
    #[test]
    fn a_header_of_type_zero_ends_a_struct_as_in_the_crate() {
        // Element 1: a logical type {STRING: {}} closed by 0x40, then 1.1 billion children.
        let mut extra = full_header(STRUCT, 10);
        extra.extend([0x1c, 0x00, 0x40]); // field 1, struct: {} (0), end of the union (0x40)
        extra.extend(full_header(I32, 5));
        push_varint(&mut extra, 2 * 1_116_015_124);
        let bytes = group_then_leaf(&extra);
        assert_eq!(
            schema_shape_error(&bytes).as_deref(),
            Some("schema element 1 declares 1116015124 children, 1 element follows it")
        );
    }

    /// Fields are read by the crate's types: a logical type's empty variant takes one
    /// byte whatever its header says, an unknown field of type UUID 16 bytes.
    #[test]
    fn known_fields_are_read_by_the_crates_types_and_unknown_ones_skipped_as_it_skips() {
        // Element 1: an unknown field 20 of type UUID whose 16 bytes hold what would read
        // as a num_children of 9, then a logical type {STRING, its header saying bool:
        // one byte 0}, then its real num_children 1.
        let mut extra = full_header(UUID, 20);
        extra.extend([0x15, 0x12]);
        extra.extend([0x7f; 14]);
        extra.extend(full_header(STRUCT, 10));
        extra.extend([0x11, 0x00, 0x00]); // field 1 as a bool header, its byte 0, end
        extra.extend(full_header(I32, 5));
        push_varint(&mut extra, 2);
        let bytes = group_then_leaf(&extra);
        assert_eq!(schema_shape_error(&bytes), None);
        // A child count of 2 in the same place is refused, so the walk did read it.
        let last = extra.len() - 1;
        extra[last] = 4;
        let bytes = group_then_leaf(&extra);
        assert_eq!(
            schema_shape_error(&bytes).as_deref(),
            Some("schema element 1 declares 2 children, 1 element follows it")
        );
    }
}
