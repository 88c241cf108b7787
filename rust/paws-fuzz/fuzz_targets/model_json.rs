//! Saved model files: the experiment's best model and the breed predictor's model. Either
//! a named error or a model whose every field was checked.
#![no_main]
use libfuzzer_sys::fuzz_target;
use paws_core::breeds::model_file::BreedModel;
use paws_core::experiment::saved_model::SavedModel;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let _ = SavedModel::from_slice(Path::new("fuzz-model.json"), data);
    let _ = BreedModel::from_slice(Path::new("fuzz-breeds.json"), data);
});
