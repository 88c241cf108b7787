//! The breed model and the CNN it was trained on, loaded once and shared by every
//! request.

use paws_core::breeds::model_file::Scored;
use paws_core::breeds::BreedModel;
use paws_vision::{decode_bytes_within, probe_bytes_within, Extractor, Probe, VisionError};
use std::path::{Path, PathBuf};

pub struct Predictor {
    model: BreedModel,
    model_path: PathBuf,
    extractor: Extractor,
}

impl Predictor {
    /// Pairs a breed model with a CNN; refuses a CNN other than the one the model was
    /// trained on (its features would give confident nonsense).
    pub fn new(
        model: BreedModel,
        model_path: &Path,
        extractor: Extractor,
    ) -> paws_core::Result<Self> {
        model.check_extractor(model_path, &extractor.info())?;
        Ok(Predictor {
            model,
            model_path: model_path.to_path_buf(),
            extractor,
        })
    }

    pub fn model(&self) -> &BreedModel {
        &self.model
    }

    pub fn model_path(&self) -> &Path {
        &self.model_path
    }

    /// Sniffs the image and refuses more than `max_pixels`, without decoding it (cheap:
    /// run before waiting for a CNN slot).
    pub fn probe(&self, bytes: &[u8], name: &str, max_pixels: u64) -> Result<Probe, VisionError> {
        probe_bytes_within(bytes, Path::new(name), max_pixels)
    }

    /// Decodes (within `max_pixels`), extracts features and scores every breed; the
    /// `top` best first. Blocking: seconds of CPU for a large photo.
    pub fn predict(
        &self,
        bytes: &[u8],
        name: &str,
        max_pixels: u64,
        top: usize,
    ) -> Result<Vec<Scored>, VisionError> {
        let image = decode_bytes_within(bytes, Path::new(name), max_pixels)?;
        let out = self.extractor.run_image(&image, name)?;
        Ok(self.model.top(&out.features, top))
    }
}
