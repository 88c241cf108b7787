//! One model's rows inside a shared block.
//!
//! The breed experiment caches the whole dataset once, as blocks of whole
//! [`CHUNK_ROWS`](crate::data::chunk::CHUNK_ROWS) chunks, and trains many models on it:
//! each model sees its own rows, a [`Selection`] (strictly ascending global row indices
//! with their labels and weights). A kernel call gets the block and the model's whole
//! selection, finds the selected rows that fall in the block by binary search, and sums
//! them chunk by chunk exactly as [`InMemorySource`](super::source::InMemorySource)
//! does over the same rows. Summed over blocks with [`GradientSum::merge`], the result
//! is the same bit for bit in either engine.
//!
//! Row indices are `i64` because the JVM hands them over as `long[]`.

use super::blocks::{RowBlock, RowIndex};
use crate::data::chunk::chunk_ranges;
use crate::data::error::{PawsError, Result};
use crate::data::exact_sum::GradientSum;
use crate::kernels::gradient::{add_chunk_gradient, KernelWeights, LossKind};
use std::ops::Range;

/// A model's selection: strictly ascending global rows, one label (0/1) each, optional
/// row weights.
pub struct Selection<'a> {
    pub rows: &'a [i64],
    pub labels: &'a [f64],
    pub weights: Option<&'a [f64]>,
}

fn invalid<T>(message: String) -> Result<T> {
    Err(PawsError::invalid(message))
}

/// The block of `rows` (row-major, `dim` wide) whose first row is the global row `first`.
pub fn block_at(rows: &[f32], dim: usize, first: i64) -> Result<RowBlock<'_>> {
    RowBlock::new(rows, dim, RowIndex::Consecutive(first_row(first)?))
}

/// A block's first global row as the JVM hands it over (`long`), checked: not negative.
pub fn first_row(first: i64) -> Result<u64> {
    u64::try_from(first).or_else(|_| invalid(format!("firstRow must be >= 0, got {first}")))
}

/// The part of `rows` (sorted) inside `[first, first + n)`, checked: ascending and in
/// range. Only that part is checked, so a call costs O(log N + k), not O(N).
pub fn range_in_block(rows: &[i64], first: i64, n: usize) -> Result<Range<usize>> {
    let end = first
        .checked_add(n as i64)
        .ok_or_else(|| PawsError::invalid(format!("block rows {first} + {n} overflow")))?;
    let lo = rows.partition_point(|&r| r < first);
    let hi = lo + rows[lo..].partition_point(|&r| r < end);
    let part = &rows[lo..hi];
    if let Some(k) = part.windows(2).position(|p| p[0] >= p[1]) {
        return invalid(format!(
            "selected rows must be strictly ascending: entry {} is {} after {}",
            lo + k + 1,
            part[k + 1],
            part[k]
        ));
    }
    if let Some(&r) = part.iter().find(|&&r| r < first || r >= end) {
        return invalid(format!(
            "selected rows must be strictly ascending: row {r} is out of order"
        ));
    }
    Ok(lo..hi)
}

impl Selection<'_> {
    /// One label (and weight) per selected row.
    pub fn check_lengths(&self) -> Result<()> {
        if self.labels.len() != self.rows.len() {
            return invalid(format!(
                "selLabels has {} values for {} selected rows",
                self.labels.len(),
                self.rows.len()
            ));
        }
        if let Some(w) = self.weights {
            if w.len() != self.rows.len() {
                return invalid(format!(
                    "selWeights has {} values for {} selected rows",
                    w.len(),
                    self.rows.len()
                ));
            }
        }
        Ok(())
    }

    /// Labels 0 or 1 and finite weights >= 0 for the entries in `range`.
    pub fn check_values(&self, range: &Range<usize>) -> Result<()> {
        if let Some(i) = range
            .clone()
            .find(|&i| self.labels[i] != 0.0 && self.labels[i] != 1.0)
        {
            return invalid(format!(
                "label {} of selected row {}: labels must be 0 or 1",
                self.labels[i], self.rows[i]
            ));
        }
        if let Some(w) = self.weights {
            if let Some(i) = range.clone().find(|&i| !(w[i].is_finite() && w[i] >= 0.0)) {
                return invalid(format!(
                    "row weight {} of selected row {}: weights must be finite and >= 0",
                    w[i], self.rows[i]
                ));
            }
        }
        Ok(())
    }

    /// The checked entries of the selection that lie in `block` (which starts at the
    /// global row `first`).
    pub fn in_block(&self, block: &RowBlock, first: i64) -> Result<Range<usize>> {
        self.check_lengths()?;
        let range = range_in_block(self.rows, first, block.len())?;
        self.check_values(&range)?;
        Ok(range)
    }
}

/// Checks a mini-batch fraction: MLlib's `miniBatchFraction` is in (0, 1].
pub fn check_fraction(fraction: f64) -> Result<()> {
    if !(fraction > 0.0 && fraction <= 1.0) {
        return invalid(format!(
            "miniBatchFraction must be in (0, 1], got {fraction}"
        ));
    }
    Ok(())
}

/// The gradient sum (`dim + 1` values) of one model at kernel weights `w` over its
/// selected rows in the block `rows` (global rows `first, first + 1, …`), chunk by
/// chunk, as `InMemorySource` sums them.
#[allow(clippy::too_many_arguments)]
pub fn gradient(
    kind: LossKind,
    rows: &[f32],
    dim: usize,
    first: i64,
    sel: &Selection,
    w: &KernelWeights,
    iteration: u32,
    fraction: f64,
) -> Result<GradientSum> {
    let b = block_at(rows, dim, first)?;
    if w.v.len() != dim {
        return invalid(format!("kernelV has {} values for dim {dim}", w.v.len()));
    }
    check_fraction(fraction)?;
    let range = sel.in_block(&b, first)?;
    let (lo, part) = (range.start, &sel.rows[range]);
    let mut sum = GradientSum::zeros(dim + 1);
    let mut buf = vec![0.0; dim + 1];
    for chunk in chunk_ranges(part.len(), |i| part[i] as u64) {
        let it = chunk.map(|i| {
            let r = part[i];
            (
                r as u64,
                b.row((r - first) as usize),
                sel.labels[lo + i],
                sel.weights.map_or(1.0, |w| w[lo + i]),
            )
        });
        add_chunk_gradient(kind, it, w, iteration, fraction, &mut buf, &mut sum);
    }
    Ok(sum)
}

/// Per-chunk moments of the selected rows of the block, added exactly: with no
/// `center`, `Σ x` per feature; with one, `Σ (x - center)²`. The count is the number of
/// rows. `dim` values (then the count) in a [`GradientSum`]. This is the one
/// computation of the scaling statistics of `--scale standard` in both engines.
pub fn moments(
    rows: &[f32],
    dim: usize,
    first: i64,
    sel_rows: &[i64],
    center: Option<&[f64]>,
) -> Result<GradientSum> {
    let b = block_at(rows, dim, first)?;
    if let Some(c) = center {
        if c.len() != dim {
            return invalid(format!("center has {} values for dim {dim}", c.len()));
        }
    }
    let range = range_in_block(sel_rows, first, b.len())?;
    let part = &sel_rows[range];
    let mut sum = GradientSum::zeros(dim);
    let mut buf = vec![0.0; dim];
    for chunk in chunk_ranges(part.len(), |i| part[i] as u64) {
        buf.iter_mut().for_each(|v| *v = 0.0);
        let n = chunk.len() as u64;
        for i in chunk {
            let x = b.row((part[i] - first) as usize);
            match center {
                None => buf.iter_mut().zip(x).for_each(|(s, &v)| *s += v as f64),
                Some(c) => buf.iter_mut().zip(x).zip(c).for_each(|((s, &v), m)| {
                    let d = v as f64 - m;
                    *s += d * d;
                }),
            }
        }
        sum.add_chunk(&buf, 0.0, n);
    }
    Ok(sum)
}

/// The mean from the exact sum of [`moments`] without a center.
pub fn mean_of(sum: &GradientSum) -> Vec<f64> {
    let n = sum.count() as f64;
    sum.gradient().into_iter().map(|s| s / n.max(1.0)).collect()
}

/// Inverse sample standard deviations (n - 1, as MLlib's `StandardScaler`) from the
/// exact sum of [`moments`] around the mean; 0 for a constant feature, which is then
/// ignored.
pub fn inv_std_of(sum: &GradientSum) -> Vec<f64> {
    let n = sum.count() as f64;
    sum.gradient()
        .into_iter()
        .map(|s| {
            let sd = if n > 1.0 { (s / (n - 1.0)).sqrt() } else { 0.0 };
            if sd > 0.0 {
                1.0 / sd
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::source::{GradientSource, InMemorySource};

    fn data(n: usize, dim: usize) -> Vec<f32> {
        (0..n * dim)
            .map(|i| (((i * 7919) % 1000) as f32 - 500.0) / 250.0)
            .collect()
    }

    /// Blocks of whole chunks, as PetBreedExperiment caches them.
    fn blocks(n: usize) -> Vec<Range<usize>> {
        (0..n.div_ceil(256))
            .map(|c| c * 256..((c + 1) * 256).min(n))
            .collect()
    }

    #[test]
    fn selected_gradient_equals_the_in_memory_source_bit_for_bit() {
        let (n, dim) = (1000, 5);
        let x = data(n, dim);
        let rows: Vec<u32> = (0..n as u32).filter(|r| r % 3 != 1).collect();
        let labels: Vec<f64> = rows.iter().map(|r| ((r * 7) % 2) as f64).collect();
        let weights: Vec<f64> = rows.iter().map(|r| 0.5 + (r % 4) as f64).collect();
        let sel_rows: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
        let w = KernelWeights {
            v: vec![0.1, -0.2, 0.05, 0.3, -0.1],
            offset: 0.2,
        };
        for kind in [LossKind::Hinge, LossKind::Logistic] {
            for weighted in [false, true] {
                for (iteration, fraction) in [(1, 1.0), (3, 0.4)] {
                    let rw = weighted.then_some(weights.as_slice());
                    let src = InMemorySource::new(kind, &x, dim, &rows, &labels, rw);
                    let expect = src.gradient_sum(&w, iteration, fraction);
                    let sel = Selection {
                        rows: &sel_rows,
                        labels: &labels,
                        weights: rw,
                    };
                    let mut got = GradientSum::zeros(dim + 1);
                    for b in blocks(n).into_iter().rev() {
                        let s = gradient(
                            kind,
                            &x[b.start * dim..b.end * dim],
                            dim,
                            b.start as i64,
                            &sel,
                            &w,
                            iteration,
                            fraction,
                        )
                        .unwrap();
                        got.merge(&s);
                    }
                    assert_eq!(got, expect, "{kind:?} weighted {weighted} {fraction}");
                }
            }
        }
    }

    #[test]
    fn moments_by_blocks_equal_moments_of_the_whole() {
        let (n, dim) = (600, 3);
        let x = data(n, dim);
        let sel: Vec<i64> = (0..n as i64).filter(|r| r % 5 < 2).collect();
        let whole = moments(&x, dim, 0, &sel, None).unwrap();
        let mut merged = GradientSum::zeros(dim);
        for b in blocks(n).into_iter().rev() {
            let s = moments(
                &x[b.start * dim..b.end * dim],
                dim,
                b.start as i64,
                &sel,
                None,
            );
            merged.merge(&s.unwrap());
        }
        assert_eq!(merged, whole);
        assert_eq!(whole.count(), sel.len() as u64);
        let mean = mean_of(&whole);
        let naive: f64 =
            sel.iter().map(|&r| x[r as usize * dim] as f64).sum::<f64>() / sel.len() as f64;
        assert!((mean[0] - naive).abs() <= 1e-14 * naive.abs().max(1.0));
        let spread = moments(&x, dim, 0, &sel, Some(&mean)).unwrap();
        assert!(inv_std_of(&spread).iter().all(|&s| s > 0.0));
        let constant = moments(&[3.0, 3.0, 3.0], 1, 0, &[0, 1, 2], Some(&[3.0])).unwrap();
        assert_eq!(inv_std_of(&constant), vec![0.0]);
    }

    #[test]
    fn bad_selections_are_errors() {
        let x = data(10, 2);
        let w = KernelWeights {
            v: vec![0.0; 2],
            offset: 0.0,
        };
        let k = LossKind::Hinge;
        let sel = |rows: &'static [i64], labels: &'static [f64]| Selection {
            rows,
            labels,
            weights: None,
        };
        let e = |s: &Selection| gradient(k, &x, 2, 0, s, &w, 1, 1.0).unwrap_err();
        assert!(e(&sel(&[1, 2], &[1.0])).to_string().contains("selLabels"));
        assert!(e(&sel(&[3, 2], &[1.0, 0.0]))
            .to_string()
            .contains("ascending"));
        assert!(e(&sel(&[1, 2], &[1.0, 2.0]))
            .to_string()
            .contains("label 2"));
        assert!(gradient(k, &x, 2, -1, &sel(&[1], &[1.0]), &w, 1, 1.0).is_err());
        assert!(gradient(k, &x, 3, 0, &sel(&[1], &[1.0]), &w, 1, 1.0).is_err());
        // Rows outside the block are ignored, not errors.
        let s = gradient(k, &x, 2, 100, &sel(&[1, 2], &[1.0, 0.0]), &w, 1, 1.0).unwrap();
        assert_eq!(s.count(), 0);
    }
}
