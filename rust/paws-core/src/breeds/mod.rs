//! Layer 7, the breed predictor: one multiclass model over every breed of a dataset,
//! with calibrated scores, for `paws train-breeds` and `paws predict`.
//!
//! - [`folds`]: the seeded stratified held-out split and the k folds of
//!   cross-validation, in which every breed takes part;
//! - [`train`]: one-vs-rest linear models, one per breed, all trained together by the
//!   batched engine ([`crate::optimiser::batch::train_many`]: one pass over the data per
//!   SGD iteration for every breed, and for every fold of a cross-validation too), with
//!   rows weighted by inverse breed frequency;
//! - [`calibrate`]: a softmax over the breeds' margins with a temperature fitted on
//!   held-out rows;
//! - [`metrics`]: top-k accuracy and the confusion matrix;
//! - [`model_file`]: the model's JSON file, checked when read;
//! - [`run`]: training with a held-out evaluation, and cross-validation.

pub mod calibrate;
pub mod folds;
pub mod metrics;
pub mod model_file;
pub mod run;
pub mod train;

pub use calibrate::{fit_temperature, nll, softmax};
pub use model_file::{BreedModel, BreedWeights, BREED_MODEL_FORMAT};
pub use run::{cross_validate, train_breeds, BreedTraining, CrossValidation, Evaluation};
pub use train::BreedConfig;
