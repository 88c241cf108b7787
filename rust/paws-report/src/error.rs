//! The one error type of paws-report. Every variant names the file it concerns.

use std::io;
use std::path::PathBuf;

/// Why a report file could not be written.
///
/// The message names the destination path and includes the underlying cause, so it
/// reads whole when printed with `{}` (the cause is deliberately not also exposed as
/// `source()`, which would print it twice in an error chain).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Creating, writing or renaming a file failed.
    #[error("cannot write {}: {cause}", path.display())]
    Io { path: PathBuf, cause: io::Error },
    /// plotters could not draw or encode the plot.
    #[error("cannot draw plot {}: {message}", path.display())]
    Plot { path: PathBuf, message: String },
    /// A saved model could not be written (the message names its file).
    #[error("{0}")]
    Model(#[from] paws_core::PawsError),
}

impl ReportError {
    pub(crate) fn io(path: impl Into<PathBuf>, cause: io::Error) -> Self {
        ReportError::Io {
            path: path.into(),
            cause,
        }
    }

    pub(crate) fn plot(path: impl Into<PathBuf>, message: impl ToString) -> Self {
        ReportError::Plot {
            path: path.into(),
            message: message.to_string(),
        }
    }
}

/// `Result` with [`ReportError`].
pub type Result<T, E = ReportError> = std::result::Result<T, E>;
