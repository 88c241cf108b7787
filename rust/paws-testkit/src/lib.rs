//! Test fixtures shared by the tests of several paws crates (a dev-dependency only).
//!
//! - [`moto`]: a local S3 server (moto's, from PyPI) on 127.0.0.1, and the environment
//!   that points the AWS SDK at it.
//! - [`images`]: image files no photo library writes (a decompression bomb's header).
//! - [`skip`]: a visible skip when the CNN is missing (a failure where it is required).
//! - [`rng`]: a seeded generator for test data.
//! - [`tree`]: the files under a folder, and copies of folders.
//! - [`fuzz`]: the fuzzers' committed corpora, for their replay by `cargo test`.

pub mod fuzz;
pub mod images;
pub mod moto;
pub mod rng;
pub mod skip;
pub mod tree;
