//! Where one SGD iteration's gradient sum comes from.
//!
//! [`GradientSource`] is the seam between the optimiser and the data: the in-process
//! engine implements it over a [`Dataset`](crate::Dataset) in memory, the Spark engine
//! over cached partition blocks. Both cut rows into the same fixed chunks
//! ([`CHUNK_ROWS`] consecutive dataset rows) and add chunk partials with
//! [`GradientSum`], so the sum is the same bit for bit however the work is spread.

use crate::blocks::{add_chunk_gradient, chunk_ranges};
use crate::exact_sum::GradientSum;
use crate::gradient::{KernelWeights, LossKind};
use rayon::prelude::*;
use std::ops::Range;

/// Rows per chunk: a chunk's partial is summed in f64 in row order, then added to the
/// exact sum. Part of the numeric contract between the engines: changing it changes
/// results in the last bits.
pub const CHUNK_ROWS: usize = 256;

/// MLlib samples each iteration's mini-batch with `data.sample(false, fraction, 42 + i)`.
/// paws keeps the same rule (Bernoulli with probability `fraction`, a fresh seed per
/// iteration) with its own generator: a hash of the iteration seed and the dataset row,
/// so the mini-batch does not depend on partitioning or threads. With fraction 1.0,
/// MLlib's default, every row is used and both agree exactly.
pub fn in_mini_batch(iteration: u32, row: u64, fraction: f64) -> bool {
    if fraction >= 1.0 {
        return true;
    }
    let mut z = (42 + iteration as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(row);
    // SplitMix64 finaliser.
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    ((z >> 11) as f64 / (1u64 << 53) as f64) < fraction
}

/// The data side of one SGD pass.
pub trait GradientSource: Sync {
    /// Raw features per row.
    fn dim(&self) -> usize;
    /// Training rows before sampling.
    fn num_rows(&self) -> u64;
    /// `Σ c·x`, `Σ c`, the loss sum and the row count over iteration `iteration`'s
    /// mini-batch, at the kernel weights `w`.
    fn gradient_sum(&self, w: &KernelWeights, iteration: u32, fraction: f64) -> GradientSum;
}

/// One model's training rows inside a dataset held in memory.
pub struct InMemorySource<'a> {
    loss: LossKind,
    features: &'a [f32],
    dim: usize,
    /// Dataset row indices, ascending.
    rows: &'a [u32],
    /// Label (0 or 1) of each entry of `rows`.
    labels: &'a [f64],
    /// Optional per-row weight (class weighting); MLlib's is 1.0.
    weights: Option<&'a [f64]>,
    /// Each range of `rows` lies in one [`CHUNK_ROWS`] block.
    chunks: Vec<Range<usize>>,
}

impl<'a> InMemorySource<'a> {
    /// `rows` must be ascending (they are sorted here if not, with their labels).
    pub fn new(
        loss: LossKind,
        features: &'a [f32],
        dim: usize,
        rows: &'a [u32],
        labels: &'a [f64],
        weights: Option<&'a [f64]>,
    ) -> Self {
        assert_eq!(rows.len(), labels.len(), "one label per row");
        assert!(
            weights.is_none_or(|w| w.len() == rows.len()),
            "one weight per row"
        );
        assert!(
            rows.windows(2).all(|p| p[0] < p[1]),
            "rows must be strictly ascending"
        );
        let chunks = chunk_ranges(rows.len(), |i| rows[i] as u64);
        InMemorySource {
            loss,
            features,
            dim,
            rows,
            labels,
            weights,
            chunks,
        }
    }

    fn row(&self, r: u32) -> &'a [f32] {
        let r = r as usize;
        &self.features[r * self.dim..(r + 1) * self.dim]
    }
}

impl GradientSource for InMemorySource<'_> {
    fn dim(&self) -> usize {
        self.dim
    }

    fn num_rows(&self) -> u64 {
        self.rows.len() as u64
    }

    fn gradient_sum(&self, w: &KernelWeights, iteration: u32, fraction: f64) -> GradientSum {
        let dim = self.dim;
        self.chunks
            .par_iter()
            .fold(
                || (GradientSum::zeros(dim + 1), vec![0.0; dim + 1]),
                |(mut sum, mut buf), range| {
                    let rows = range.clone().map(|i| {
                        let r = self.rows[i];
                        let weight = self.weights.map_or(1.0, |w| w[i]);
                        (r as u64, self.row(r), self.labels[i], weight)
                    });
                    add_chunk_gradient(self.loss, rows, w, iteration, fraction, &mut buf, &mut sum);
                    (sum, buf)
                },
            )
            .map(|(sum, _)| sum)
            .reduce(
                || GradientSum::zeros(dim + 1),
                |mut a, b| {
                    a.merge(&b);
                    a
                },
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mini_batch_fraction_selects_about_that_share() {
        let picked = (0..100_000).filter(|&r| in_mini_batch(3, r, 0.3)).count();
        assert!((29_000..31_000).contains(&picked), "{picked}");
        assert!((0..1000).all(|r| in_mini_batch(1, r, 1.0)));
        // A new iteration draws a new batch.
        let a: Vec<bool> = (0..64).map(|r| in_mini_batch(1, r, 0.5)).collect();
        let b: Vec<bool> = (0..64).map(|r| in_mini_batch(2, r, 0.5)).collect();
        assert_ne!(a, b);
    }

    #[test]
    fn gradient_is_identical_on_any_number_of_threads() {
        let dim = 7;
        let n = 3000usize;
        let features: Vec<f32> = (0..n * dim)
            .map(|i| ((i * 7919) % 1000) as f32 / 250.0)
            .collect();
        let rows: Vec<u32> = (0..n as u32).filter(|r| r % 3 != 0).collect();
        let labels: Vec<f64> = rows.iter().map(|r| (r % 2) as f64).collect();
        let src = InMemorySource::new(LossKind::Logistic, &features, dim, &rows, &labels, None);
        let w = KernelWeights {
            v: (0..dim).map(|j| 0.01 * j as f64 - 0.02).collect(),
            offset: 0.1,
        };
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| src.gradient_sum(&w, 1, 1.0))
        };
        let one = run(1);
        assert_eq!(one.count(), rows.len() as u64);
        for t in [2, 3, 8] {
            assert_eq!(run(t), one, "{t} threads");
        }
    }
}
