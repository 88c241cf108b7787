//! Layer 4, the optimiser: MLlib's SGD loop ([`sgd`]), its updaters ([`updater`]), the
//! map between model weights and the kernel's raw rows ([`standardize`]) and the
//! trainer of many models per pass ([`batch`]). Uses the layers below; knows nothing of
//! models as saved or evaluated.

pub mod batch;
pub mod round;
pub mod sgd;
pub mod standardize;
pub mod updater;
