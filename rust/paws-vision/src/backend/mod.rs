//! The inference engines behind [`crate::Extractor`]: tract (pure Rust, always built,
//! the default) and, with the `onnxruntime` feature, onnxruntime opened at run time.
//!
//! A backend loads a model into an [`Engine`] that runs one preprocessed image and
//! returns the selected outputs; everything else (input checks, output widths, model
//! id, provenance) is the extractor's.

use crate::error::{Result, VisionError};
use std::path::{Path, PathBuf};

#[cfg(feature = "onnxruntime")]
pub mod onnxruntime;
pub(crate) mod tract;

#[cfg(feature = "onnxruntime")]
pub use onnxruntime::OnnxRuntimeOptions;

/// The engine that runs the model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Backend {
    /// tract-onnx, one optimised plan for a batch of 1 shared by all threads.
    #[default]
    Tract,
    /// onnxruntime through the ort crate, from a `libonnxruntime` given at run time
    /// (the `onnxruntime` PyPI wheel ships one in `onnxruntime/capi/`).
    #[cfg(feature = "onnxruntime")]
    OnnxRuntime(OnnxRuntimeOptions),
}

/// The backend names [`Backend::from_name`] accepts, for help texts and errors.
pub const BACKEND_NAMES: &[&str] = &["tract", "onnxruntime"];

impl Backend {
    /// The name recorded with the features (`paws.extractor.backend` in Parquet).
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Tract => "tract",
            #[cfg(feature = "onnxruntime")]
            Backend::OnnxRuntime(_) => "onnxruntime",
        }
    }

    /// The backend called `name` (one of [`BACKEND_NAMES`]); `onnxruntime_lib` is the
    /// `libonnxruntime` to open, `None` for `$ORT_DYLIB_PATH`. Fails, naming the
    /// choices, on an unknown name, and on `onnxruntime` in a build without the
    /// `onnxruntime` feature.
    pub fn from_name(name: &str, onnxruntime_lib: Option<PathBuf>) -> Result<Self> {
        match name {
            "tract" => Ok(Backend::Tract),
            #[cfg(feature = "onnxruntime")]
            "onnxruntime" => Ok(Backend::OnnxRuntime(OnnxRuntimeOptions {
                library: onnxruntime_lib,
                ..OnnxRuntimeOptions::default()
            })),
            #[cfg(not(feature = "onnxruntime"))]
            "onnxruntime" => {
                let _ = onnxruntime_lib;
                Err(VisionError::InvalidInput(
                    "this build of paws has no onnxruntime backend (paws-vision's `onnxruntime` feature)"
                        .into(),
                ))
            }
            other => Err(VisionError::InvalidInput(format!(
                "unknown extraction backend '{other}' (expected one of {})",
                BACKEND_NAMES.join(", ")
            ))),
        }
    }
}

/// What the extractor asks of a backend.
pub(crate) struct Request<'a> {
    /// The model file, or what stands for it in errors.
    pub path: &'a Path,
    pub input_size: usize,
    /// The outputs to return, in order: the features, then the logits if asked for.
    pub outputs: &'a [String],
}

/// A model loaded by a backend.
pub(crate) struct Loaded {
    pub engine: Engine,
    /// The ONNX metadata `model_id`, if the model has one.
    pub metadata_id: Option<String>,
    /// The number of values per image of each requested output, in order.
    pub widths: Vec<usize>,
}

/// A loaded model, runnable from many threads at once.
#[derive(Debug, Clone)]
pub(crate) enum Engine {
    Tract(tract::TractEngine),
    #[cfg(feature = "onnxruntime")]
    OnnxRuntime(std::sync::Arc<onnxruntime::OrtEngine>),
}

impl Engine {
    /// Runs one image (`3 * S * S` NCHW values) and returns the requested outputs, in
    /// order, flattened; errors are messages for [`VisionError::Inference`].
    pub fn run(&self, input: &[f32], input_size: usize) -> Result<Vec<Vec<f32>>, String> {
        match self {
            Engine::Tract(e) => e.run(input, input_size),
            #[cfg(feature = "onnxruntime")]
            Engine::OnnxRuntime(e) => e.run(input, input_size),
        }
    }
}

/// Loads `bytes` (an ONNX file) with `backend`.
pub(crate) fn load(backend: &Backend, bytes: &[u8], request: &Request) -> Result<Loaded> {
    match backend {
        Backend::Tract => tract::load(bytes, request),
        #[cfg(feature = "onnxruntime")]
        Backend::OnnxRuntime(options) => onnxruntime::load(options, bytes, request),
    }
}
