//! `--splits`: a named error, or splits strictly between 0 and 1.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(splits) = paws_core::experiment::plan::parse_splits(text) {
            assert!(!splits.is_empty());
            assert!(splits.iter().all(|&s| s > 0.0 && s < 1.0), "{text:?} gave {splits:?}");
        }
    }
});
