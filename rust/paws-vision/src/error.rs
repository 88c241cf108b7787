//! One error type for paws-vision. Every variant names the file it is about.

use std::path::PathBuf;

pub type Result<T, E = VisionError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum VisionError {
    /// The message includes the OS error; it is deliberately not also `source()`,
    /// which would print it twice in an error chain (`{:#}`).
    #[error("{path}: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },

    /// The file is not an image paws can read: unknown format, truncated or corrupt.
    #[error("{path}: cannot decode image: {message}")]
    Decode { path: PathBuf, message: String },

    /// The bytes are not in any image format paws reads (sniffed from the content).
    #[error(
        "{path}: cannot decode image: unrecognised image format (not JPEG, PNG, GIF, BMP or WebP)"
    )]
    UnknownFormat { path: PathBuf },

    /// The image's header declares more pixels than the caller allows: refused before
    /// any pixel is decoded (a decompression bomb is a few kilobytes of PNG).
    #[error("{path}: image is {width} x {height} pixels, more than the {max_pixels} allowed")]
    TooLarge {
        path: PathBuf,
        width: u32,
        height: u32,
        max_pixels: u64,
    },

    #[error("{path}: file name does not follow <breed>_<n>.<ext> (e.g. Bengal_12.jpg)")]
    BadFileName { path: PathBuf },

    #[error("{path}: no images could be extracted ({skipped} files skipped)")]
    NoImages { path: PathBuf, skipped: usize },

    /// The ONNX file cannot be read, is not a model this crate can run, or lacks an
    /// output it was asked for.
    #[error("{path}: cannot load ONNX model: {message}")]
    Model { path: PathBuf, message: String },

    /// The inference library (onnxruntime's shared library) cannot be opened or used:
    /// missing, not a library, too old, or built for a newer glibc.
    #[error("{library}: cannot load onnxruntime: {message}")]
    Backend { library: PathBuf, message: String },

    #[error("{model}: inference failed on {image}: {message}")]
    Inference {
        model: PathBuf,
        image: String,
        message: String,
    },

    #[error("invalid input: {0}")]
    InvalidInput(String),

    #[error(transparent)]
    Core(#[from] paws_core::PawsError),
}

impl VisionError {
    pub(crate) fn decode(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        VisionError::Decode {
            path: path.into(),
            message: message.into(),
        }
    }

    pub(crate) fn model(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        VisionError::Model {
            path: path.into(),
            message: message.to_string(),
        }
    }
}
