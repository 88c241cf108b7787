//! One error type for the core. Every variant names what a user needs to find the
//! problem: the file, the row or index, the field, and what was expected.

use std::path::PathBuf;

pub type Result<T, E = PawsError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum PawsError {
    /// The message includes the OS error; it is deliberately not also `source()`,
    /// which would print it twice in an error chain (`{:#}`).
    #[error("{path}: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },

    #[error("{path}: malformed feature JSON: {message}")]
    MalformedJson { path: PathBuf, message: String },

    #[error("{path}: wrong feature dimension: expected {expected}, found {found}")]
    WrongDimension {
        path: PathBuf,
        expected: usize,
        found: usize,
    },

    #[error("{path}: {what} at {location} is {value}; features must be finite")]
    NonFinite {
        path: PathBuf,
        /// "feature index 17" or "row 3 (image x.jpg), feature index 17".
        location: String,
        what: &'static str,
        value: String,
    },

    #[error("{path}: no feature files (expected <breed>_<n>.jpg.json)")]
    EmptyFolder { path: PathBuf },

    #[error("{path}: file name does not follow <breed>_<n>.jpg.json")]
    BadFileName { path: PathBuf },

    #[error("unknown class '{name}'; known classes: {}", known.join(", "))]
    UnknownClass { name: String, known: Vec<String> },

    #[error("class '{name}' has no rows in {source_name}")]
    EmptyClass { name: String, source_name: String },

    #[error("{path}: Parquet: {message}")]
    Parquet { path: PathBuf, message: String },

    #[error("{path}: column '{column}': {message}")]
    BadColumn {
        path: PathBuf,
        column: String,
        message: String,
    },

    /// A breed model file that is not what `paws predict` can use: the field and why.
    #[error("{path}: breed model: {field}: {message}")]
    BadModel {
        path: PathBuf,
        field: String,
        message: String,
    },

    /// Features of one extractor given to a model trained on another's.
    #[error(
        "{path}: the breed model was trained on features of '{expected}' (dim {expected_dim}), \
         but the features come from '{found}' (dim {found_dim}); use the extractor the model \
         was trained with, or retrain the model on this extractor's features"
    )]
    ExtractorMismatch {
        path: PathBuf,
        expected: String,
        expected_dim: usize,
        found: String,
        found_dim: usize,
    },

    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    #[error("numeric overflow: {0}")]
    Overflow(String),
}

impl PawsError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        PawsError::Io {
            path: path.into(),
            cause: source,
        }
    }

    pub fn invalid(msg: impl Into<String>) -> Self {
        PawsError::InvalidArgument(msg.into())
    }
}
