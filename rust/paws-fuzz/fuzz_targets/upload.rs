//! `POST /api/predict`'s upload (the first line of the input is the `Content-Type`, the
//! rest the body); the checks are in `paws_serve::fuzzing::upload`, shared with the
//! corpus replay.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = paws_serve::fuzzing::upload(data);
});
