//! An uploaded photo (`paws serve`, `paws predict`): decoded within a pixel bound, or a
//! named error; never a panic, never an allocation beyond the bound.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

/// 4 Mpx: what a test server allows (libFuzzer's -rss_limit_mb=2048 catches more).
const MAX_PIXELS: u64 = 1 << 22;

fuzz_target!(|data: &[u8]| {
    if let Ok(img) = paws_vision::decode_bytes_within(data, Path::new("fuzz.jpg"), MAX_PIXELS) {
        assert!(u64::from(img.width()) * u64::from(img.height()) <= MAX_PIXELS);
    }
});
