//! The JNI exports, one file per Java class of `dev.paws.spark`.

mod native_experiment;
mod native_kernels;
