//! Layer 3, the data access: which rows one iteration reads and how their sums are
//! built chunk by chunk ([`source`] in memory, [`blocks`] as engines cache them,
//! [`selection`] for one model's rows inside a shared block). Uses the kernels and
//! the data layer; never the optimiser or anything above.

pub mod blocks;
pub mod selection;
pub mod source;
