//! The chunk contract between the engines.
//!
//! Rows are cut into chunks by their *global* dataset row index (`row / CHUNK_ROWS`);
//! each chunk's partial is summed in f64 in ascending row order and the partials are
//! added exactly ([`GradientSum`](crate::data::exact_sum::GradientSum)). Every sum that
//! must be equal across engines (gradients, scaling moments) follows this contract, so
//! it does not depend on how rows are spread over threads or Spark partitions.

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

/// Cuts `n` entries with ascending global row indices into runs that lie in the same
/// [`CHUNK_ROWS`] chunk of the dataset.
pub fn chunk_ranges(n: usize, global_row: impl Fn(usize) -> u64) -> Vec<Range<usize>> {
    let chunk = |i: usize| global_row(i) / CHUNK_ROWS as u64;
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=n {
        if i == n || chunk(i) != chunk(start) {
            out.push(start..i);
            start = i;
        }
    }
    out
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
    fn chunk_ranges_cut_at_chunk_borders() {
        let rows: Vec<u64> = (300..1000).collect();
        assert_eq!(
            chunk_ranges(rows.len(), |i| rows[i]),
            vec![0..212, 212..468, 468..700]
        );
    }
}
