//! No code: see Cargo.toml. This crate only pins features of shared dependencies, so
//! the demo's quick build and the full build compile each crate once.
