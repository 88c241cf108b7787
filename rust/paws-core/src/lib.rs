//! paws-core: everything numeric that both engines share.
//!
//! - [`dataset`], [`legacy`], [`parquet_io`]: feature datasets in memory and on disk;
//! - [`gradient`], [`updater`], [`sgd`], [`exact_sum`]: Spark MLlib's mini-batch SGD
//!   (`GradientDescent.runMiniBatchSGD`) with its hinge and logistic gradients and its
//!   updaters, reproduced operation for operation;
//! - [`source`]: the data access behind one SGD iteration ([`source::GradientSource`]),
//!   implemented in process here and by Spark partitions in the JVM shim;
//! - [`batch`], [`batch_kernel`]: a whole sweep of models per pass over the data, with
//!   GEMM-shaped kernels that give the one-model results bit for bit;
//! - [`split`], [`eval`], [`model`], [`experiment`], [`results`]: the breed experiment.
//!
//! The Spark engine calls the same functions through JNI, so both engines give the
//! same weights by construction.

pub mod atomic;
pub mod batch;
pub mod batch_kernel;
pub mod blocks;
pub mod dataset;
pub mod error;
pub mod eval;
pub mod exact_sum;
pub mod experiment;
pub mod gradient;
pub mod legacy;
pub mod model;
#[cfg(feature = "parquet")]
pub mod parquet_io;
pub mod results;
pub mod sgd;
pub mod source;
pub mod split;
pub mod standardize;
pub mod updater;

pub use dataset::{Dataset, Extractor};
pub use error::{PawsError, Result};
