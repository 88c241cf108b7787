//! Where one SGD iteration's gradient sum comes from.
//!
//! [`GradientSource`] is the seam between the optimiser and the data: the in-process
//! engine implements it over a [`Dataset`](crate::Dataset) in memory, the Spark engine
//! over cached partition blocks. Both cut rows into the same fixed chunks
//! ([`CHUNK_ROWS`](crate::data::chunk::CHUNK_ROWS) consecutive dataset rows) and add
//! chunk partials with [`GradientSum`], so the sum is the same bit for bit however the
//! work is spread.

use crate::data::chunk::chunk_ranges;
use crate::data::exact_sum::GradientSum;
use crate::kernels::gradient::{add_chunk_gradient, KernelWeights, LossKind};
use rayon::prelude::*;
use std::ops::Range;

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
