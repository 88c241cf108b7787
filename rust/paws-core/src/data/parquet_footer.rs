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
//! [`decode`] therefore walks the footer's schema first ([`schema_shape_error`]) and
//! refuses a group that declares more children than elements follow it, or a schema
//! nested deeper than [`MAX_SCHEMA_DEPTH`]; everything else is the crate's to decode
//! and judge. The crate keeps its Thrift decoder private, and the `thrift` crate's
//! decoder allocates a declared string length before reading it (up to 4 GB), so the
//! walk is a few dozen lines of the Thrift compact protocol over the footer's bytes,
//! reading only what it needs and never allocating by a declared size.

use crate::data::error::Result;
use crate::data::parquet_io::pq_err;
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
/// order whose field 5 is `num_children`. A footer this walk cannot read is left to the
/// crate, whose error names the problem better; only a shape the crate would allocate
/// or recurse on is refused here.
///
/// The crate reads a field it knows by the type its schema gives it, whatever type the
/// field's header says (a `num_children` marked i64 or i16 is still read as a
/// varint), and skips only the fields it does not know by their header's type; this walk
/// reads the fields before and in the schema the same way (the fuzzer found a footer
/// whose `num_children` header said i64: skipped here, read by the crate).
///
/// The whole footer is walked, and a list, set or map that declares more elements than
/// the bytes left can hold is refused: the crate skips a field it does not know by
/// looping over its declared length, and takes a container's boolean elements as zero
/// bytes, so a map of booleans declaring 757 million entries cost seconds of CPU (and
/// nested ones would multiply that) before an error.
pub fn schema_shape_error(footer: &[u8]) -> Option<String> {
    let mut input = Compact {
        bytes: footer,
        pos: 0,
        too_long: None,
    };
    match walk_file_metadata(&mut input) {
        Ok(why) => why,
        Err(Malformed) => input.too_long.take(),
    }
}

/// `FileMetaData`, field by field: `Ok(Some(why))` for a shape to refuse.
fn walk_file_metadata(input: &mut Compact) -> std::result::Result<Option<String>, Malformed> {
    let mut last_id = 0;
    while let Some((id, kind)) = input.field_header(&mut last_id)? {
        match id {
            // version (i32), num_rows (i64)
            1 | 3 => input.varint().map(drop)?,
            2 => {
                if let Some(why) = check_schema(input)? {
                    return Ok(Some(why));
                }
            }
            _ => input.skip(kind, 0)?,
        }
    }
    Ok(None)
}

/// Reads the schema list: `Ok(Some(why))` for a shape to refuse, `Err` where the bytes
/// stop making sense (the crate will say why).
fn check_schema(input: &mut Compact) -> std::result::Result<Option<String>, Malformed> {
    // The elements are read as structs whatever the list's header says, as the crate does.
    let (_, count) = input.list_header()?;
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

/// Whether a container's element type is a boolean (a byte on the wire, none in the
/// crate's skip).
fn is_bool(kind: u8) -> bool {
    kind == BOOL_TRUE || kind == BOOL_FALSE
}

/// Nesting of Thrift values the walk follows; a real footer needs about five.
const MAX_THRIFT_DEPTH: u32 = 64;

/// A reader of the Thrift compact protocol over a byte slice.
struct Compact<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Why the walk stopped at a container too long for the bytes left (refused), where
    /// other malformed bytes are left to the crate.
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

    /// The next field's id and type, or `None` at the struct's end.
    fn field_header(
        &mut self,
        last_id: &mut i16,
    ) -> std::result::Result<Option<(i16, u8)>, Malformed> {
        let b = self.byte()?;
        if b == 0 {
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

    /// A list's (or set's) element type and length; every element takes at least a
    /// byte, so a length beyond the bytes left is malformed (refused for booleans, which
    /// the crate's skip loops over without reading).
    fn list_header(&mut self) -> std::result::Result<(u8, u64), Malformed> {
        let at = self.pos;
        let b = self.byte()?;
        let count = match b >> 4 {
            15 => self.varint()?,
            short => u64::from(short),
        };
        self.fits(at, "list", count, count, is_bool(b & 0x0f))?;
        Ok((b & 0x0f, count))
    }

    /// A container at byte `at` of `count` elements needing at least `bytes` that the
    /// bytes left cannot hold is malformed; refused when the crate's skip would loop over
    /// its elements without reading (`free`: booleans), left to the crate otherwise (it
    /// stops at the end of the bytes).
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
            if !free {
                return Err(Malformed);
            }
            self.too_long = Some(format!(
                "a Thrift {what} at byte {at} declares {count} elements, {left} bytes follow it"
            ));
            return Err(Malformed);
        }
        Ok(())
    }

    /// One `SchemaElement`'s `num_children` (field 5, an i32: the crate truncates the
    /// varint's value as here; absent or negative counts as none, which the crate then
    /// refuses or reads as a leaf). Its known fields are read by their schema types, as
    /// the crate reads them: 1-3 and 5-9 are i32s (or enums: i32s too), 4 the name (a
    /// string), 10 the logical type (a union: a struct).
    fn schema_element_children(&mut self) -> std::result::Result<u64, Malformed> {
        let (mut last_id, mut children) = (0, 0);
        while let Some((id, kind)) = self.field_header(&mut last_id)? {
            match id {
                5 => children = u64::try_from(self.zigzag()? as i32).unwrap_or(0),
                1..=3 | 6..=9 => self.varint().map(drop)?,
                4 => self.skip(BINARY, 1)?,
                10 => self.skip(STRUCT, 1)?,
                _ => self.skip(kind, 1)?,
            }
        }
        Ok(children)
    }

    /// Skips one value of type `kind` (a field's; booleans live in its header).
    fn skip(&mut self, kind: u8, depth: u32) -> std::result::Result<(), Malformed> {
        if depth > MAX_THRIFT_DEPTH {
            return Err(Malformed);
        }
        match kind {
            BOOL_TRUE | BOOL_FALSE => Ok(()),
            BYTE => self.advance(1),
            I16 | I32 | I64 => self.varint().map(drop),
            DOUBLE => self.advance(8),
            BINARY => {
                let len = self.varint()?;
                self.advance(len)
            }
            LIST | SET => {
                let (elem, count) = self.list_header()?;
                for _ in 0..count {
                    self.skip_element(elem, depth + 1)?;
                }
                Ok(())
            }
            MAP => {
                let at = self.pos;
                let count = self.varint()?;
                if count == 0 {
                    return Ok(());
                }
                let kinds = self.byte()?;
                // A key and a value: two bytes at least.
                let free = is_bool(kinds >> 4) && is_bool(kinds & 0x0f);
                self.fits(at, "map", count, count.saturating_mul(2), free)?;
                for _ in 0..count {
                    self.skip_element(kinds >> 4, depth + 1)?;
                    self.skip_element(kinds & 0x0f, depth + 1)?;
                }
                Ok(())
            }
            STRUCT => {
                let mut last_id = 0;
                while let Some((_, kind)) = self.field_header(&mut last_id)? {
                    self.skip(kind, depth + 1)?;
                }
                Ok(())
            }
            _ => Err(Malformed),
        }
    }

    /// Skips one element of a list, set or map, where a boolean is a byte of its own.
    fn skip_element(&mut self, kind: u8, depth: u32) -> std::result::Result<(), Malformed> {
        match kind {
            BOOL_TRUE | BOOL_FALSE => self.advance(1),
            _ => self.skip(kind, depth),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A footer whose schema is `elements` (name, num_children) under field 2, after a
    /// version field and before a num_rows field, as writers order them.
    fn footer(elements: &[(&str, Option<i32>)]) -> Vec<u8> {
        let mut out = vec![0x15, 0x02]; // field 1, i32: version 1
        out.push(0x19); // field 2, list
        if elements.len() < 15 {
            out.push(((elements.len() as u8) << 4) | STRUCT);
        } else {
            out.push(0xf0 | STRUCT);
            push_varint(&mut out, elements.len() as u64);
        }
        for (name, children) in elements {
            out.push(0x48); // field 4, binary
            push_varint(&mut out, name.len() as u64);
            out.extend_from_slice(name.as_bytes());
            if let Some(n) = children {
                out.push(0x15); // field 5, i32
                push_varint(&mut out, ((*n << 1) ^ (*n >> 31)) as u32 as u64);
            }
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
    fn bytes_it_cannot_read_are_left_to_the_crate() {
        let good = footer(&[("schema", Some(1)), ("a", None)]);
        for cut in 0..good.len() {
            assert_eq!(schema_shape_error(&good[..cut]), None, "cut at {cut}");
        }
        assert_eq!(schema_shape_error(&[0xff; 64]), None);
        assert_eq!(schema_shape_error(&[]), None);
    }
}
