//! Layer 1, the contract and the data: what both engines agree on before any
//! arithmetic (the chunk contract, exact sums, errors) and the feature datasets with
//! their file formats. Uses no other layer.

pub mod atomic;
pub mod chunk;
pub mod dataset;
pub mod error;
pub mod exact_sum;
pub mod legacy;
#[cfg(feature = "parquet")]
pub mod parquet_footer;
#[cfg(feature = "parquet")]
pub mod parquet_io;
#[cfg(feature = "parquet")]
pub mod parquet_pages;
#[cfg(feature = "parquet")]
pub mod parquet_ranges;
#[cfg(feature = "parquet")]
pub mod strict_end;
