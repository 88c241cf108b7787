//! A feature Parquet file: a named error or a dataset of consistent shape.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let _ = paws_core::data::parquet_io::read_parquet_bytes(Path::new("fuzz.parquet"), data.to_vec());
});
