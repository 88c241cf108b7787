//! Admission control: how many requests are in the service at once, and how many of
//! them run the CNN.
//!
//! A request is admitted only while fewer than `workers + queue` are in flight; one
//! that is not gets a 503 with Retry-After at once, before its body is read, so a burst
//! of uploads costs neither memory nor CPU. An admitted request waits for one of
//! `workers` CNN slots. The slot moves into the blocking task that runs the CNN, so a
//! request that times out while the CNN runs still holds the slot until the run ends:
//! the number of CNN runs never exceeds `workers`.

use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub(crate) struct Admission {
    in_flight: Arc<Semaphore>,
    workers: Arc<Semaphore>,
}

impl Admission {
    pub fn new(workers: usize, queue: usize) -> Self {
        let workers = workers.max(1);
        Admission {
            in_flight: Arc::new(Semaphore::new(workers + queue)),
            workers: Arc::new(Semaphore::new(workers)),
        }
    }

    /// A place in the service, or `None` when it is full.
    pub fn admit(&self) -> Option<OwnedSemaphorePermit> {
        self.in_flight.clone().try_acquire_owned().ok()
    }

    /// Waits for a CNN slot.
    pub async fn worker(&self) -> OwnedSemaphorePermit {
        self.workers
            .clone()
            .acquire_owned()
            .await
            .expect("the workers semaphore is never closed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn admits_workers_plus_queue_then_refuses() {
        let a = Admission::new(2, 3);
        let held: Vec<_> = (0..5).map(|_| a.admit().expect("room")).collect();
        assert!(a.admit().is_none());
        drop(held);
        assert!(a.admit().is_some());
    }

    #[tokio::test]
    async fn worker_slots_are_bounded() {
        let a = Admission::new(1, 0);
        let first = a.worker().await;
        let second = tokio::time::timeout(std::time::Duration::from_millis(50), a.worker()).await;
        assert!(
            second.is_err(),
            "a second slot was given while the first was held"
        );
        drop(first);
        let _slot = tokio::time::timeout(std::time::Duration::from_secs(1), a.worker())
            .await
            .expect("the slot is free again");
    }
}
