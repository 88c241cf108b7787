//! A Parquet [`ChunkReader`] whose streaming readers fail at the end of the data
//! instead of returning zero bytes.
//!
//! Why: the `parquet` crate (60.1) reads page headers through [`std::io::Read`], and its
//! Thrift skipper skips a `double` or `uuid` field with `io::copy(reader.take(n), sink)`,
//! which stops quietly at the end of the data. A corrupt header that declares a list of
//! two billion doubles therefore spins through two billion empty copies: minutes of CPU
//! for a 1,166-byte file (`rust/paws-fuzz/corpus/parquet/timeout-page-header-skip`,
//! found by the `parquet` fuzz target). Every other read of a page header goes through
//! `read_exact`, which treats an early end as an error anyway, so turning "no more
//! bytes" into an error changes nothing for a valid file and stops the skip at the
//! first read past the end. The crate reads only page headers and the footer through
//! [`ChunkReader::get_read`]; page bodies come from [`ChunkReader::get_bytes`].

use bytes::Bytes;
use parquet::errors::ParquetError;
use parquet::file::reader::{ChunkReader, Length};
use std::io::{self, Read};

/// `inner`, with every reader from [`ChunkReader::get_read`] wrapped in [`EndIsError`].
pub struct StrictEnd<C>(pub C);

impl<C: Length> Length for StrictEnd<C> {
    fn len(&self) -> u64 {
        self.0.len()
    }
}

impl<C: ChunkReader> ChunkReader for StrictEnd<C> {
    type T = EndIsError<C::T>;

    fn get_read(&self, start: u64) -> Result<Self::T, ParquetError> {
        self.0.get_read(start).map(EndIsError)
    }

    fn get_bytes(&self, start: u64, length: usize) -> Result<Bytes, ParquetError> {
        self.0.get_bytes(start, length)
    }
}

/// A reader that reports the end of its data as an [`io::ErrorKind::UnexpectedEof`]
/// error: a reader of page headers never legitimately reaches it.
pub struct EndIsError<R>(pub R);

impl<R: Read> Read for EndIsError<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.0.read(buf)?;
        if n == 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "a page header runs past the end of the file",
            ));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_through_and_then_fails_at_the_end() {
        let data = Bytes::from_static(b"abcdef");
        let mut r = StrictEnd(data).get_read(2).unwrap();
        let mut got = Vec::new();
        let err = r.read_to_end(&mut got).unwrap_err();
        assert_eq!(got, b"cdef");
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        // An empty buffer is not a read past the end.
        assert_eq!(r.read(&mut []).unwrap(), 0);
    }

    #[test]
    fn a_skip_past_the_end_fails_instead_of_copying_nothing() {
        // What the Thrift skipper does for a `double`: copy 8 bytes into a sink.
        let mut r = StrictEnd(Bytes::from_static(b"1234")).get_read(0).unwrap();
        let copy = |r: &mut EndIsError<_>| io::copy(&mut r.by_ref().take(8), &mut io::sink());
        assert!(copy(&mut r).is_err(), "4 of 8 bytes, then the end");
    }
}
