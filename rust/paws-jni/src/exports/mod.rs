//! The JNI exports, one file per Java class of `dev.paws.spark.jni`.

mod native_breeds;
mod native_experiment;
mod native_kernels;
mod native_parquet;
