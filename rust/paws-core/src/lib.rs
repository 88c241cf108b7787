//! paws-core: everything numeric that both engines share.
//!
//! The modules are layers, lowest first; a layer uses only the layers below it.
//!
//! 1. [`data`], the contract and the data: errors, exact sums, the chunk contract
//!    ([`data::chunk::CHUNK_ROWS`]), feature datasets in memory, legacy JSON folders,
//!    Parquet and atomic writes. Nothing here knows about losses or models.
//! 2. [`kernels`]: MLlib's hinge and logistic gradients over rows, and the GEMM-shaped
//!    kernels that give the one-model sums bit for bit for many models at once.
//! 3. [`access`], the data access: where one iteration's gradient comes from (a dataset
//!    in memory, cached blocks, a model's selected rows inside a shared block).
//! 4. [`optimiser`]: Spark MLlib's mini-batch SGD (`GradientDescent.runMiniBatchSGD`),
//!    its updaters, the feature map (intercept, standardisation) and the many-models
//!    trainer.
//! 5. [`model`], the model and its evaluation: prediction and confusion counts.
//! 6. [`experiment`]: the breed experiment: splits, the session that plans models and
//!    records their results, the table rows and the saved-model format.
//! 7. [`breeds`]: the breed predictor: one-vs-rest models of every breed trained
//!    together, calibrated scores, their evaluation and model file.
//!
//! The Spark engine calls the same functions through JNI, so both engines give the
//! same weights by construction.

pub mod access;
pub mod breeds;
pub mod data;
pub mod experiment;
pub mod kernels;
pub mod model;
pub mod optimiser;

pub use data::dataset::{Dataset, Extractor};
pub use data::error::{PawsError, Result};
