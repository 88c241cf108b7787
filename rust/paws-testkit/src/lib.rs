//! Test fixtures shared by the tests of several paws crates (a dev-dependency only).
//!
//! - [`moto`]: a local S3 server (moto's, from PyPI) on 127.0.0.1, and the environment
//!   that points the AWS SDK at it.

pub mod moto;
