//! paws-vision: photos in, CNN features out.
//!
//! - [`decode`]: decoding by content (a `.jpg` may be a GIF or PNG) and any colour type
//!   to RGB8, with truncated JPEGs rejected;
//! - [`preprocess`](mod@preprocess): resize the short side to 256, centre-crop 224,
//!   `(x/255 - 0.5)/0.5`, NCHW `f32`;
//! - [`extractor`]: an ONNX model (by default EfficientNet-Lite0 from
//!   `scripts/fetch-model.sh`) run by a [`backend`]: tract-onnx as one plan shared by all
//!   threads, or (feature `onnxruntime`) onnxruntime opened at run time;
//! - [`folder`]: a folder of `<breed>_<n>.jpg` photos to a [`paws_core::Dataset`], in
//!   parallel and in file-name order.
//!
//! ```no_run
//! use paws_vision::{extract_folder, Extractor, ModelOptions};
//! use std::path::Path;
//!
//! let extractor = Extractor::load(Path::new("efficientnet-lite0.onnx"), ModelOptions::default())?;
//! let out = extract_folder(Path::new("photos"), &extractor, false, &|done, total| {
//!     eprint!("\r{done}/{total}");
//! })?;
//! println!("{} rows of {}", out.dataset.len(), out.dataset.dim());
//! # Ok::<(), paws_vision::VisionError>(())
//! ```

pub mod backend;
pub mod decode;
pub mod error;
pub mod extractor;
pub mod folder;
pub mod preprocess;

#[cfg(feature = "onnxruntime")]
pub use backend::OnnxRuntimeOptions;
pub use backend::{Backend, BACKEND_NAMES};
pub use decode::{
    decode_bytes, decode_bytes_within, decode_file, probe_bytes, probe_bytes_within, Probe,
};
pub use error::{Result, VisionError};
pub use extractor::{Extractor, ModelOptions, Output};
pub use folder::{extract_folder, list_files, Extraction};
pub use preprocess::preprocess;

use std::path::PathBuf;

/// The file name of the default model in the cache.
pub const DEFAULT_MODEL_FILE: &str = "efficientnet-lite0.onnx";

/// Where `scripts/fetch-model.sh` puts the default model:
/// `$PAWS_MODEL` if set, else `${PAWS_CACHE:-$HOME/.cache/paws}/models/efficientnet-lite0.onnx`.
pub fn default_model_path() -> PathBuf {
    if let Some(p) = std::env::var_os("PAWS_MODEL").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    cache_dir().join("models").join(DEFAULT_MODEL_FILE)
}

/// `$PAWS_CACHE`, else `$HOME/.cache/paws`.
pub fn cache_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("PAWS_CACHE").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".cache").join("paws")
}
