//! A CNN feature extractor: an ONNX model run by a [`Backend`] (tract by default, as
//! one optimised plan for a batch of 1; or onnxruntime).
//!
//! [`Extractor::run`] takes `&self`, so rayon workers run images concurrently through
//! the same loaded model.

use crate::backend::{self, Backend, Engine, Request};
use crate::decode::decode_file;
use crate::error::{Result, VisionError};
use crate::preprocess::{preprocess, DEFAULT_INPUT_SIZE};
use image::RgbImage;
use std::path::{Path, PathBuf};

/// The ONNX `metadata_props` key holding the model id (written by
/// `tools/convert_efficientnet_lite0.py`).
pub const MODEL_ID_KEY: &str = "model_id";

/// How to load a model. The defaults fit the converted EfficientNet-Lite0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelOptions {
    /// The square input size `S`: the model takes `[1, 3, S, S]` float32 NCHW.
    pub input_size: u32,
    /// The name of the output that gives the features (a tensor or node name).
    pub features_output: String,
    /// The name of the ImageNet logits output, if the model has one to keep.
    pub logits_output: Option<String>,
    /// The model id recorded with the features; `None` takes the ONNX metadata
    /// `model_id`, or else the file stem.
    pub model_id: Option<String>,
}

impl Default for ModelOptions {
    fn default() -> Self {
        ModelOptions {
            input_size: DEFAULT_INPUT_SIZE,
            features_output: "features".into(),
            logits_output: Some("logits".into()),
            model_id: None,
        }
    }
}

/// What the network gives for one image.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub features: Vec<f32>,
    /// Present when the extractor was loaded with a logits output.
    pub logits: Option<Vec<f32>>,
}

/// A loaded model, ready to run from many threads at once.
#[derive(Debug, Clone)]
pub struct Extractor {
    engine: Engine,
    backend: &'static str,
    path: PathBuf,
    model_id: String,
    input_size: u32,
    dim: usize,
    logits_dim: Option<usize>,
}

impl Extractor {
    /// Loads, checks and optimises the ONNX model at `path` with tract.
    ///
    /// Fails, naming the file, when the model cannot be parsed, does not accept
    /// `[1, 3, S, S]` float32, or lacks a requested output.
    pub fn load(path: &Path, options: ModelOptions) -> Result<Self> {
        Self::load_with(path, options, &Backend::Tract)
    }

    /// [`Extractor::load`] with the given backend.
    pub fn load_with(path: &Path, options: ModelOptions, backend: &Backend) -> Result<Self> {
        if !path.is_file() {
            return Err(VisionError::model(
                path,
                "no such file (run scripts/fetch-model.sh to fetch the default model)",
            ));
        }
        let bytes = std::fs::read(path).map_err(|cause| VisionError::Io {
            path: path.to_path_buf(),
            cause,
        })?;
        Self::load_bytes_with(&bytes, path, options, backend)
    }

    /// Loads a model held in memory, as Spark executors get it (a broadcast of the file
    /// read once by the driver from any Hadoop path). `name` stands for the file in
    /// errors and, without a model id, gives the id (its stem).
    pub fn load_bytes(bytes: &[u8], name: &Path, options: ModelOptions) -> Result<Self> {
        Self::load_bytes_with(bytes, name, options, &Backend::Tract)
    }

    /// [`Extractor::load_bytes`] with the given backend.
    pub fn load_bytes_with(
        bytes: &[u8],
        path: &Path,
        options: ModelOptions,
        backend: &Backend,
    ) -> Result<Self> {
        if bytes.is_empty() {
            return Err(VisionError::model(path, "the model file is empty"));
        }
        if options.input_size == 0 {
            return Err(VisionError::model(path, "input size must be positive"));
        }
        let mut outputs = vec![options.features_output.clone()];
        outputs.extend(options.logits_output.iter().cloned());
        let s = options.input_size as usize;
        let loaded = backend::load(
            backend,
            bytes,
            &Request {
                path,
                input_size: s,
                outputs: &outputs,
            },
        )?;
        let dim = loaded.widths[0];
        let logits_dim = loaded.widths.get(1).copied();
        let model_id = options
            .model_id
            .or(loaded.metadata_id)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| {
                path.file_stem()
                    .map_or_else(|| "unknown".into(), |s| s.to_string_lossy().into_owned())
            });
        log::info!(
            "{}: model '{model_id}' on {}, input [1,3,{s},{s}], features {dim}, logits {logits_dim:?}",
            path.display(),
            backend.name()
        );
        Ok(Extractor {
            engine: loaded.engine,
            backend: backend.name(),
            path: path.to_path_buf(),
            model_id,
            input_size: options.input_size,
            dim,
            logits_dim,
        })
    }

    /// The name of the backend that runs the model ([`Backend::name`]).
    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// The model id recorded with extracted features.
    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    /// The feature dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The number of logits per image, when loaded with a logits output.
    pub fn logits_dim(&self) -> Option<usize> {
        self.logits_dim
    }

    /// The square input size `S`.
    pub fn input_size(&self) -> u32 {
        self.input_size
    }

    /// The model file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The provenance stored with a dataset of these features.
    pub fn info(&self) -> paws_core::data::dataset::Extractor {
        paws_core::data::dataset::Extractor {
            model: self.model_id.clone(),
            dim: self.dim,
        }
    }

    /// Runs the network on one preprocessed image: `3 * S * S` NCHW values as made by
    /// [`crate::preprocess::preprocess`]. `image` names the input in errors.
    pub fn run(&self, input: &[f32], image: &str) -> Result<Output> {
        let s = self.input_size as usize;
        let fail = |message: String| VisionError::Inference {
            model: self.path.clone(),
            image: image.to_string(),
            message,
        };
        if input.len() != 3 * s * s {
            return Err(fail(format!(
                "input has {} values, expected 3 x {s} x {s}",
                input.len()
            )));
        }
        let mut outputs = self.engine.run(input, s).map_err(fail)?.into_iter();
        let mut read = |ix: usize, len: usize| -> Result<Vec<f32>> {
            let values = outputs
                .next()
                .ok_or_else(|| fail(format!("output {ix} is missing")))?;
            if values.len() != len {
                return Err(fail(format!(
                    "output {ix} has {} values, expected {len}",
                    values.len()
                )));
            }
            Ok(values)
        };
        let features = read(0, self.dim)?;
        let logits = match self.logits_dim {
            Some(n) => Some(read(1, n)?),
            None => None,
        };
        Ok(Output { features, logits })
    }

    /// Preprocesses and runs one decoded image.
    pub fn run_image(&self, img: &RgbImage, image: &str) -> Result<Output> {
        self.run(&preprocess(img, self.input_size), image)
    }

    /// Decodes, preprocesses and runs one encoded image held in memory; `name` (its
    /// file or URI) is used in errors.
    pub fn run_bytes(&self, bytes: &[u8], name: &str) -> Result<Output> {
        let img = crate::decode::decode_bytes(bytes, Path::new(name))?;
        self.run_image(&img, name)
    }

    /// Decodes, preprocesses and runs one image file.
    pub fn run_file(&self, path: &Path) -> Result<Output> {
        let img = decode_file(path)?;
        self.run_image(&img, &path.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extractor_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Extractor>();
    }

    #[test]
    fn missing_model_file_is_named() {
        let err = Extractor::load(Path::new("/nonexistent/m.onnx"), ModelOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/m.onnx"), "{err}");
        assert!(err.contains("fetch-model.sh"), "{err}");
    }
}
