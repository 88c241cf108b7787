//! `s3://` wherever a command takes a path (feature `s3`, on by default). The engines
//! compute on local files: an S3 input is downloaded into a temporary folder first
//! (streamed to disk, a bounded number of objects at a time), and an S3 output is
//! written into a temporary folder by the same all-or-nothing code as a local one, then
//! uploaded; a folder's `_SUCCESS` object is written last.
//!
//! Both implementations have the same API: [`input`] and [`Output`].

#[cfg(feature = "s3")]
mod s3;
#[cfg(feature = "s3")]
pub use s3::{input, Output};

#[cfg(not(feature = "s3"))]
mod local;
#[cfg(not(feature = "s3"))]
pub use local::{input, Output};
