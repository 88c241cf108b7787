//! Blocks of rows as an engine holds them, and the chunk arithmetic both engines share.
//!
//! The numeric contract between the in-process engine and Spark is: rows are cut into
//! chunks by their *global* dataset row index (`row / CHUNK_ROWS`), each chunk's
//! partial is summed in f64 in ascending row order, and the partials are added exactly
//! with [`GradientSum`]. Everything in this module follows that contract, so a sum
//! built from blocks in any grouping or order equals
//! [`InMemorySource::gradient_sum`](crate::access::source::InMemorySource) bit for bit, as long
//! as no chunk is split between two blocks (the JVM shim guarantees that by merging the
//! pieces of a chunk that straddle two Spark partitions).
//!
//! A [`RowBlock`] holds features only; labels and row weights are passed per model, so
//! several models (one-vs-one pairs, splits of a sweep) can share one cached block.

use crate::data::chunk::chunk_ranges;
use crate::data::error::{PawsError, Result};
use crate::data::exact_sum::GradientSum;
use crate::kernels::gradient::{add_chunk_gradient, KernelWeights, LossKind};
use std::ops::Range;

/// Global dataset row indices of a block's rows.
#[derive(Debug, Clone, Copy)]
pub enum RowIndex<'a> {
    /// Rows `first, first + 1, …`.
    Consecutive(u64),
    /// One strictly ascending index per row.
    Listed(&'a [u64]),
}

/// Row-major `f32` features of consecutive-in-order dataset rows.
#[derive(Debug, Clone, Copy)]
pub struct RowBlock<'a> {
    rows: &'a [f32],
    dim: usize,
    len: usize,
    index: RowIndex<'a>,
}

impl<'a> RowBlock<'a> {
    /// Checks the shape: `rows.len()` is a multiple of `dim`, a listed index has one
    /// strictly ascending entry per row, and no index overflows.
    pub fn new(rows: &'a [f32], dim: usize, index: RowIndex<'a>) -> Result<Self> {
        if dim == 0 {
            return Err(PawsError::invalid("dim must be positive"));
        }
        if rows.len() % dim != 0 {
            return Err(PawsError::invalid(format!(
                "rows has {} values, not a multiple of dim {dim}",
                rows.len()
            )));
        }
        let len = rows.len() / dim;
        match index {
            RowIndex::Consecutive(first) => {
                // The last index, first + len - 1, must be a Java long.
                if first
                    .checked_add(len as u64)
                    .is_none_or(|end| end > i64::MAX as u64 + 1)
                {
                    return Err(PawsError::invalid(format!(
                        "first row index {first} overflows"
                    )));
                }
            }
            RowIndex::Listed(ix) => {
                if ix.len() != len {
                    return Err(PawsError::invalid(format!(
                        "row index has {} entries for {len} rows",
                        ix.len()
                    )));
                }
                if let Some(&bad) = ix.iter().find(|&&r| r > i64::MAX as u64) {
                    return Err(PawsError::invalid(format!(
                        "row index {} is negative",
                        bad as i64
                    )));
                }
                if let Some(k) = ix.windows(2).position(|p| p[0] >= p[1]) {
                    return Err(PawsError::invalid(format!(
                        "row index must be strictly ascending: entry {} is {} after {}",
                        k + 1,
                        ix[k + 1],
                        ix[k]
                    )));
                }
            }
        }
        Ok(RowBlock {
            rows,
            dim,
            len,
            index,
        })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Features of row `i` of the block.
    #[inline]
    pub fn row(&self, i: usize) -> &'a [f32] {
        &self.rows[i * self.dim..(i + 1) * self.dim]
    }

    /// Global dataset index of row `i` of the block.
    #[inline]
    pub fn global_row(&self, i: usize) -> u64 {
        match self.index {
            RowIndex::Consecutive(first) => first + i as u64,
            RowIndex::Listed(ix) => ix[i],
        }
    }

    /// The block's rows grouped by chunk.
    pub fn chunks(&self) -> Vec<Range<usize>> {
        chunk_ranges(self.len, |i| self.global_row(i))
    }
}

pub(crate) fn check_labels(labels: &[f64], rows: usize) -> Result<()> {
    if labels.len() != rows {
        return Err(PawsError::invalid(format!(
            "labels has {} values for {rows} rows",
            labels.len()
        )));
    }
    if let Some(i) = labels.iter().position(|&y| y != 0.0 && y != 1.0) {
        return Err(PawsError::invalid(format!(
            "label {} at block row {i}: labels must be 0 or 1",
            labels[i]
        )));
    }
    Ok(())
}

/// Checks the per-model inputs of [`add_block_gradient`].
pub fn check_gradient_inputs(
    block: &RowBlock,
    labels: &[f64],
    weights: Option<&[f64]>,
    w: &KernelWeights,
    fraction: f64,
) -> Result<()> {
    check_labels(labels, block.len())?;
    if let Some(rw) = weights {
        if rw.len() != block.len() {
            return Err(PawsError::invalid(format!(
                "row weights has {} values for {} rows",
                rw.len(),
                block.len()
            )));
        }
        if let Some(i) = rw.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err(PawsError::invalid(format!(
                "row weight {} at block row {i}: weights must be finite and >= 0",
                rw[i]
            )));
        }
    }
    if w.v.len() != block.dim() {
        return Err(PawsError::invalid(format!(
            "kernel weights have {} values, the block dim is {}",
            w.v.len(),
            block.dim()
        )));
    }
    if !(fraction > 0.0 && fraction <= 1.0) {
        return Err(PawsError::invalid(format!(
            "miniBatchFraction must be in (0, 1], got {fraction}"
        )));
    }
    Ok(())
}

/// Adds a block's gradient, loss and count for one model to `sum` (which has
/// `block.dim() + 1` values: `Σ c·x`, then `Σ c`), chunk by chunk.
#[allow(clippy::too_many_arguments)]
pub fn add_block_gradient(
    kind: LossKind,
    block: &RowBlock,
    labels: &[f64],
    weights: Option<&[f64]>,
    w: &KernelWeights,
    iteration: u32,
    fraction: f64,
    sum: &mut GradientSum,
) -> Result<()> {
    check_gradient_inputs(block, labels, weights, w, fraction)?;
    if sum.dim() != block.dim() + 1 {
        return Err(PawsError::invalid(format!(
            "gradient sum has {} values, expected {}",
            sum.dim(),
            block.dim() + 1
        )));
    }
    let mut buf = vec![0.0; block.dim() + 1];
    for range in block.chunks() {
        let rows = range.map(|i| {
            (
                block.global_row(i),
                block.row(i),
                labels[i],
                weights.map_or(1.0, |rw| rw[i]),
            )
        });
        add_chunk_gradient(kind, rows, w, iteration, fraction, &mut buf, sum);
    }
    Ok(())
}

/// The sum of one block alone (see [`add_block_gradient`]).
#[allow(clippy::too_many_arguments)]
pub fn block_gradient_sum(
    kind: LossKind,
    block: &RowBlock,
    labels: &[f64],
    weights: Option<&[f64]>,
    w: &KernelWeights,
    iteration: u32,
    fraction: f64,
) -> Result<GradientSum> {
    let mut sum = GradientSum::zeros(block.dim() + 1);
    add_block_gradient(
        kind, block, labels, weights, w, iteration, fraction, &mut sum,
    )?;
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::source::{GradientSource, InMemorySource};

    fn data(n: usize, dim: usize) -> (Vec<f32>, Vec<f64>) {
        let x = (0..n * dim)
            .map(|i| (((i * 7919) % 1000) as f32 - 500.0) / 250.0)
            .collect();
        let y = (0..n).map(|r| ((r * 31 + r / 7) % 2) as f64).collect();
        (x, y)
    }

    /// Cuts the selected dataset rows into pieces at arbitrary places (as Spark
    /// partitions would) but keeps each chunk whole, and sums the blocks in reverse.
    #[allow(clippy::too_many_arguments)]
    fn sum_by_blocks(
        kind: LossKind,
        x: &[f32],
        dim: usize,
        rows: &[u32],
        y: &[f64],
        w: &KernelWeights,
        iteration: u32,
        fraction: f64,
    ) -> GradientSum {
        let idx: Vec<u64> = rows.iter().map(|&r| r as u64).collect();
        let chunks = chunk_ranges(idx.len(), |i| idx[i]);
        let mut sum = GradientSum::zeros(dim + 1);
        // Blocks of 1, 2, 3, … chunks.
        let mut blocks = Vec::new();
        let mut k = 0;
        let mut size = 1;
        while k < chunks.len() {
            let end = (k + size).min(chunks.len());
            blocks.push(chunks[k].start..chunks[end - 1].end);
            k = end;
            size += 1;
        }
        for b in blocks.iter().rev() {
            let feats: Vec<f32> = b
                .clone()
                .flat_map(|i| x[rows[i] as usize * dim..(rows[i] as usize + 1) * dim].to_vec())
                .collect();
            let block = RowBlock::new(&feats, dim, RowIndex::Listed(&idx[b.clone()])).unwrap();
            add_block_gradient(
                kind,
                &block,
                &y[b.clone()],
                None,
                w,
                iteration,
                fraction,
                &mut sum,
            )
            .unwrap();
        }
        sum
    }

    #[test]
    fn blocks_give_the_in_memory_sum_bit_for_bit() {
        let (dim, n) = (9, 2000);
        let (x, yall) = data(n, dim);
        let rows: Vec<u32> = (0..n as u32).filter(|r| r % 5 != 2).collect();
        let y: Vec<f64> = rows.iter().map(|&r| yall[r as usize]).collect();
        let w = KernelWeights {
            v: (0..dim).map(|j| 0.03 * j as f64 - 0.1).collect(),
            offset: -0.2,
        };
        for kind in [LossKind::Hinge, LossKind::Logistic] {
            for (iteration, fraction) in [(1, 1.0), (4, 0.37)] {
                let src = InMemorySource::new(kind, &x, dim, &rows, &y, None);
                let expect = src.gradient_sum(&w, iteration, fraction);
                let got = sum_by_blocks(kind, &x, dim, &rows, &y, &w, iteration, fraction);
                assert_eq!(got, expect, "{kind:?} {iteration} {fraction}");
            }
        }
    }

    #[test]
    fn consecutive_index_equals_listed() {
        let (dim, n) = (4, 700);
        let (x, y) = data(n, dim);
        let w = KernelWeights {
            v: vec![0.1, -0.2, 0.3, 0.05],
            offset: 0.0,
        };
        let listed: Vec<u64> = (300..300 + n as u64).collect();
        let a = RowBlock::new(&x, dim, RowIndex::Consecutive(300)).unwrap();
        let b = RowBlock::new(&x, dim, RowIndex::Listed(&listed)).unwrap();
        // 300..1000 crosses the chunks 1, 2 and 3.
        assert_eq!(a.chunks(), vec![0..212, 212..468, 468..700]);
        let sa = block_gradient_sum(LossKind::Hinge, &a, &y, None, &w, 1, 1.0).unwrap();
        let sb = block_gradient_sum(LossKind::Hinge, &b, &y, None, &w, 1, 1.0).unwrap();
        assert_eq!(sa, sb);
        assert_eq!(sa.count(), n as u64);
    }

    #[test]
    fn bad_shapes_are_errors_not_panics() {
        let x = [0f32; 6];
        assert!(RowBlock::new(&x, 0, RowIndex::Consecutive(0)).is_err());
        assert!(RowBlock::new(&x, 4, RowIndex::Consecutive(0)).is_err());
        assert!(RowBlock::new(&x, 3, RowIndex::Listed(&[1])).is_err());
        assert!(RowBlock::new(&x, 3, RowIndex::Listed(&[2, 1])).is_err());
        assert!(RowBlock::new(&x, 3, RowIndex::Consecutive(u64::MAX)).is_err());
        let b = RowBlock::new(&x, 3, RowIndex::Listed(&[1, 2])).unwrap();
        let w = KernelWeights {
            v: vec![0.0; 3],
            offset: 0.0,
        };
        let k = LossKind::Hinge;
        let e = block_gradient_sum(k, &b, &[1.0], None, &w, 1, 1.0).unwrap_err();
        assert!(
            e.to_string().contains("labels has 1 values for 2 rows"),
            "{e}"
        );
        let e = block_gradient_sum(k, &b, &[1.0, 2.0], None, &w, 1, 1.0).unwrap_err();
        assert!(e.to_string().contains("label 2"), "{e}");
        assert!(block_gradient_sum(k, &b, &[1.0, 0.0], Some(&[1.0]), &w, 1, 1.0).is_err());
        assert!(block_gradient_sum(k, &b, &[1.0, 0.0], None, &w, 1, 0.0).is_err());
        let w2 = KernelWeights {
            v: vec![0.0; 2],
            offset: 0.0,
        };
        assert!(block_gradient_sum(k, &b, &[1.0, 0.0], None, &w2, 1, 1.0).is_err());
    }
}
