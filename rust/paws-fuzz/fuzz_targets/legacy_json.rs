//! One legacy feature file (`<breed>_<n>.jpg.json`): a named error or finite features.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(values) = paws_core::data::legacy::parse_feature_array(Path::new("fuzz.jpg.json"), data) {
        assert!(!values.is_empty() && values.iter().all(|v| v.is_finite()));
    }
});
