//! paws-store: where paws reads and writes. A location is a local path or an `s3://`
//! URL; the S3 side goes through the AWS SDK for Rust with the default credential chain
//! and region, the standard `AWS_ENDPOINT_URL` for S3-compatible stores, bounded
//! timeouts and retries.
//!
//! - [`location`] parses `s3://bucket/key` ([`S3Url`]);
//! - [`listing`] picks a folder's files out of a listing and checks the local names
//!   that keys become;
//! - [`s3`] has [`S3`]: list (paginated), download (streamed to disk, bounded
//!   concurrency), upload (multipart above [`s3::MULTIPART_THRESHOLD`], aborted on
//!   failure), and the `_SUCCESS` marker of a finished output prefix;
//! - [`error`] has [`StoreError`], whose messages name the bucket and key and say what
//!   to check.
//!
//! paws computes on local files: an S3 input is downloaded into a temporary folder first
//! and an S3 output is written locally and uploaded when complete (see `paws-cli`).

pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod listing;
pub mod location;
pub mod s3;

pub use error::{Result, StoreError};
pub use location::S3Url;
pub use s3::{S3, SUCCESS_MARKER};
