//! Driver-side SGD states behind opaque handles.
//!
//! A handle is a number drawn from a counter, never a pointer: a stale, freed or
//! made-up handle is looked up in a table and reported as an
//! `IllegalArgumentException`, it cannot reach freed memory.

use crate::guard::{Error, Result};
use paws_core::sgd::Sgd;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

type Table = HashMap<i64, Arc<Mutex<Sgd>>>;

fn table() -> MutexGuard<'static, Table> {
    static TABLE: OnceLock<Mutex<Table>> = OnceLock::new();
    // A panic while the table was locked cannot leave it half-updated (inserts and
    // removes are single calls), so a poisoned lock is still usable.
    TABLE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

static NEXT: AtomicI64 = AtomicI64::new(1);

pub fn insert(sgd: Sgd) -> i64 {
    let h = NEXT.fetch_add(1, Ordering::Relaxed);
    table().insert(h, Arc::new(Mutex::new(sgd)));
    h
}

/// Runs `f` on the state of handle `h`.
pub fn with<R>(h: i64, f: impl FnOnce(&mut Sgd) -> Result<R>) -> Result<R> {
    let state = table().get(&h).cloned().ok_or_else(|| {
        Error::Invalid(format!(
            "unknown SGD handle {h} (never created, or already freed)"
        ))
    })?;
    // A panic inside an earlier call may have left the state half-updated: refuse it.
    let mut sgd = state.lock().map_err(|_| {
        Error::Native(format!(
            "SGD handle {h} is unusable: an earlier call on it panicked"
        ))
    })?;
    f(&mut sgd)
}

/// Frees handle `h`; false when it was not live.
pub fn remove(h: i64) -> bool {
    table().remove(&h).is_some()
}

/// Live handles (for leak checks in tests).
pub fn live() -> usize {
    table().len()
}
