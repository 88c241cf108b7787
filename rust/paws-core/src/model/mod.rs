//! Layer 5, the model and its evaluation: a trained linear model's prediction
//! ([`linear`]) and confusion counts on rows ([`eval`]).

pub mod eval;
pub mod linear;
