//! Layer 2, the kernels: per-row arithmetic of MLlib's gradients, for one model
//! ([`gradient`]), for many models per pass ([`batch_kernel`]) and on sparse rows
//! ([`sparse`]). Uses [`crate::data`] only; knows nothing of where rows come from.

pub mod batch_kernel;
pub mod gradient;
pub mod sparse;
