//! Native states behind opaque handles: driver-side SGD states and experiment sessions.
//!
//! A handle is a number drawn from one process-wide counter, never a pointer: a stale,
//! freed or made-up handle (or one of the other kind) is looked up in a table and
//! reported as an `IllegalArgumentException`, it cannot reach freed memory.

use crate::guard::{Error, Result};
use paws_core::optimiser::sgd::Sgd;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

static NEXT: AtomicI64 = AtomicI64::new(1);

/// One table of states of type `T`.
pub struct Handles<T> {
    table: OnceLock<Mutex<HashMap<i64, Arc<Mutex<T>>>>>,
    /// "SGD" or "experiment", for the messages.
    what: &'static str,
}

impl<T> Handles<T> {
    pub const fn new(what: &'static str) -> Self {
        Handles {
            table: OnceLock::new(),
            what,
        }
    }

    fn table(&self) -> MutexGuard<'_, HashMap<i64, Arc<Mutex<T>>>> {
        // A panic while the table was locked cannot leave it half-updated (inserts and
        // removes are single calls), so a poisoned lock is still usable.
        self.table
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    pub fn insert(&self, state: T) -> i64 {
        let h = NEXT.fetch_add(1, Ordering::Relaxed);
        self.table().insert(h, Arc::new(Mutex::new(state)));
        h
    }

    /// Runs `f` on the state of handle `h`.
    pub fn with<R>(&self, h: i64, f: impl FnOnce(&mut T) -> Result<R>) -> Result<R> {
        let what = self.what;
        let state = self.table().get(&h).cloned().ok_or_else(|| {
            Error::Invalid(format!(
                "unknown {what} handle {h} (never created, or already freed)"
            ))
        })?;
        // A panic inside an earlier call may have left the state half-updated: refuse it.
        let mut s = state.lock().map_err(|_| {
            Error::Native(format!(
                "{what} handle {h} is unusable: an earlier call on it panicked"
            ))
        })?;
        f(&mut s)
    }

    /// Removes handle `h` and returns its state (for a final call that consumes it).
    pub fn take(&self, h: i64) -> Result<T> {
        let what = self.what;
        let state = self.table().remove(&h).ok_or_else(|| {
            Error::Invalid(format!(
                "unknown {what} handle {h} (never created, or already freed)"
            ))
        })?;
        let state = Arc::try_unwrap(state).map_err(|_| {
            Error::Native(format!("{what} handle {h} is still in use by another call"))
        })?;
        state.into_inner().map_err(|_| {
            Error::Native(format!(
                "{what} handle {h} is unusable: an earlier call on it panicked"
            ))
        })
    }

    /// Frees handle `h`; false when it was not live.
    pub fn remove(&self, h: i64) -> bool {
        self.table().remove(&h).is_some()
    }

    /// Live handles (for leak checks in tests).
    #[cfg(feature = "test-hooks")]
    pub fn live(&self) -> usize {
        self.table().len()
    }
}

static SGD: Handles<Sgd> = Handles::new("SGD");

pub fn insert(sgd: Sgd) -> i64 {
    SGD.insert(sgd)
}

/// Runs `f` on the SGD state of handle `h`.
pub fn with<R>(h: i64, f: impl FnOnce(&mut Sgd) -> Result<R>) -> Result<R> {
    SGD.with(h, f)
}

/// Frees SGD handle `h`; false when it was not live.
pub fn remove(h: i64) -> bool {
    SGD.remove(h)
}

/// Live SGD handles.
#[cfg(feature = "test-hooks")]
pub fn live() -> usize {
    SGD.live()
}
