//! `s3://` URLs (what a user types) and the keys of a listing (what a server returns);
//! the checks are in `paws_store::fuzzing::s3`, shared with the corpus replay.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = paws_store::fuzzing::s3(data);
});
