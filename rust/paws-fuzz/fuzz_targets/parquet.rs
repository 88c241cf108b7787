//! A feature Parquet file: a named error or a dataset of consistent shape.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::Once;

static DEFAULT_HOOK: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    // libfuzzer-sys aborts at any panic, even one caught: paws_core catches the parquet
    // crate's panics on corrupt data (read_part_from), so the default hook goes back in.
    // A panic that escapes still aborts the run (libfuzzer-sys catches it and aborts).
    DEFAULT_HOOK.call_once(|| drop(std::panic::take_hook()));
    let _ = paws_core::data::parquet_io::read_parquet_bytes(Path::new("fuzz.parquet"), data.to_vec());
});
