//! The breed experiment: one breed against another, against several, or against all,
//! over a sweep of train splits; one seeded stratified split and one model per
//! (comparison, split); the accuracy table and the best model of each comparison.
//!
//! - [`plan`]: the configuration, the comparisons and the per-model splits;
//! - [`split`]: the seeded stratified split;
//! - [`train`]: training and evaluating planned models in process;
//! - [`session`]: one run, whichever engine trains it: plan, record each model's
//!   result, keep the best model per comparison, give the table rows;
//! - [`results`], [`saved_model`]: the table row and the saved model's JSON.
//!
//! Both engines drive a [`Session`]: `paws experiment` through [`run`], Spark's
//! `PetBreedExperiment` through paws-jni, model by model.

pub mod plan;
pub mod results;
pub mod saved_model;
pub mod session;
pub mod split;
pub mod train;

pub use plan::{parse_splits, Comparison, ComparisonSpec, ExperimentConfig, ModelTask, ALL};
pub use session::{
    describe, run, title, ExperimentOutput, Recorded, Session, CLI_ENGINE, SPARK_ENGINE,
};
pub use train::Outcome;
