//! Kernels over the rows of one model inside a shared cached block.
//!
//! The breed experiment caches the whole dataset once, as blocks of whole
//! [`CHUNK_ROWS`](paws_core::source::CHUNK_ROWS) chunks, and trains many models on it:
//! each model sees its own training rows (a sorted list of global row indices with
//! their labels and weights, broadcast once per model). A kernel call gets the block and
//! the model's whole selection, finds the selected rows that fall in the block by binary
//! search, and sums them chunk by chunk exactly as
//! [`InMemorySource`](paws_core::source::InMemorySource) does over the same rows: the
//! Spark engine and `paws experiment` give the same sums bit for bit.
//!
//! The pure functions here take slices; `lib.rs` wraps them for JNI.

use crate::guard::{invalid, Result};
use paws_core::batch::{BatchModel, SweepAccumulator};
use paws_core::batch_kernel::Simd;
use paws_core::blocks::{add_chunk_gradient, chunk_ranges, RowBlock, RowIndex};
use paws_core::eval::Confusion;
use paws_core::exact_sum::GradientSum;
use paws_core::gradient::{KernelWeights, LossKind};
use paws_core::model::LinearModel;
use std::ops::Range;

/// A model's selection: strictly ascending global rows, one label (0/1) each, optional
/// row weights.
pub struct Selection<'a> {
    pub rows: &'a [i64],
    pub labels: &'a [f64],
    pub weights: Option<&'a [f64]>,
}

/// The part of `rows` (sorted) inside `[first, first + n)`, checked: ascending and in
/// range. Only that part is checked, so a call costs O(log N + k), not O(N).
fn range_in_block(rows: &[i64], first: i64, n: usize) -> Result<Range<usize>> {
    let end = first.checked_add(n as i64).ok_or_else(|| {
        crate::guard::Error::Invalid(format!("block rows {first} + {n} overflow"))
    })?;
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

fn check_selection(sel: &Selection) -> Result<()> {
    if sel.labels.len() != sel.rows.len() {
        return invalid(format!(
            "selLabels has {} values for {} selected rows",
            sel.labels.len(),
            sel.rows.len()
        ));
    }
    if let Some(w) = sel.weights {
        if w.len() != sel.rows.len() {
            return invalid(format!(
                "selWeights has {} values for {} selected rows",
                w.len(),
                sel.rows.len()
            ));
        }
    }
    Ok(())
}

fn check_labels_and_weights(sel: &Selection, range: &Range<usize>) -> Result<()> {
    if let Some(i) = range
        .clone()
        .find(|&i| sel.labels[i] != 0.0 && sel.labels[i] != 1.0)
    {
        return invalid(format!(
            "label {} of selected row {}: labels must be 0 or 1",
            sel.labels[i], sel.rows[i]
        ));
    }
    if let Some(w) = sel.weights {
        if let Some(i) = range.clone().find(|&i| !(w[i].is_finite() && w[i] >= 0.0)) {
            return invalid(format!(
                "row weight {} of selected row {}: weights must be finite and >= 0",
                w[i], sel.rows[i]
            ));
        }
    }
    Ok(())
}

/// The block of `rows` (row-major, `dim` wide) whose first row is the global row `first`.
fn block<'a>(rows: &'a [f32], dim: usize, first: i64) -> Result<RowBlock<'a>> {
    if first < 0 {
        return invalid(format!("firstRow must be >= 0, got {first}"));
    }
    Ok(RowBlock::new(
        rows,
        dim,
        RowIndex::Consecutive(first as u64),
    )?)
}

/// Adds the selected rows of the block to `sum` (`dim + 1` values): the gradient of one
/// model at kernel weights `w`, chunk by chunk, as `InMemorySource` sums them.
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
    let b = block(rows, dim, first)?;
    check_selection(sel)?;
    if w.v.len() != dim {
        return invalid(format!("kernelV has {} values for dim {dim}", w.v.len()));
    }
    if !(fraction > 0.0 && fraction <= 1.0) {
        return invalid(format!(
            "miniBatchFraction must be in (0, 1], got {fraction}"
        ));
    }
    let range = range_in_block(sel.rows, first, b.len())?;
    check_labels_and_weights(sel, &range)?;
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

/// The gradient sums of K models over one block of whole chunks, in one pass
/// ([`paws_core::batch`]): model k's selected rows inside the block are
/// `sel.rows[start[k]..start[k + 1]]` (strictly ascending, all in the block), its kernel
/// weights `v[k·dim..(k + 1)·dim]` and `offsets[k]`. Each sum is the one
/// [`gradient`] gives for that model alone, bit for bit.
#[allow(clippy::too_many_arguments)]
pub fn gradient_batch(
    kind: LossKind,
    rows: &[f32],
    dim: usize,
    first: i64,
    start: &[i32],
    sel: &Selection,
    v: &[f64],
    offsets: &[f64],
    iteration: u32,
    fraction: f64,
) -> Result<Vec<GradientSum>> {
    let k = start.len().saturating_sub(1);
    let ids: Vec<i32> = (0..k as i32).collect();
    let mut acc = SweepAccumulator::new(k, dim);
    sweep_add(
        &mut acc, kind, rows, dim, first, &ids, start, sel, v, offsets, iteration, fraction,
    )?;
    let mut sums: Vec<GradientSum> = (0..k).map(|_| GradientSum::zeros(dim + 1)).collect();
    for (id, s) in acc.finish() {
        sums[id] = s;
    }
    Ok(sums)
}

/// Adds K models' partials over one block to a task's accumulator: as
/// [`gradient_batch`], model k being `ids[k]` in the accumulator.
#[allow(clippy::too_many_arguments)]
pub fn sweep_add(
    acc: &mut SweepAccumulator,
    kind: LossKind,
    rows: &[f32],
    dim: usize,
    first: i64,
    ids: &[i32],
    start: &[i32],
    sel: &Selection,
    v: &[f64],
    offsets: &[f64],
    iteration: u32,
    fraction: f64,
) -> Result<()> {
    let b = block(rows, dim, first)?;
    check_selection(sel)?;
    let k = start
        .len()
        .checked_sub(1)
        .ok_or_else(|| crate::guard::Error::Invalid("selStart must have K + 1 entries".into()))?;
    if start[0] != 0 || start[k] as usize != sel.rows.len() || start.windows(2).any(|p| p[0] > p[1])
    {
        return invalid(format!(
            "selStart must rise from 0 to {} (the selected rows), got {start:?}",
            sel.rows.len()
        ));
    }
    if ids.len() != k || ids.iter().any(|&i| i < 0) {
        return invalid(format!("modelIds must hold {k} ids >= 0, got {ids:?}"));
    }
    if v.len() != k * dim || offsets.len() != k {
        return invalid(format!(
            "{k} models of dim {dim} need {} kernelV and {k} offsets, got {} and {}",
            k * dim,
            v.len(),
            offsets.len()
        ));
    }
    if let Some(o) = offsets.iter().find(|o| !o.is_finite()) {
        return invalid(format!("offsets must be finite, got {o}"));
    }
    if !(fraction > 0.0 && fraction <= 1.0) {
        return invalid(format!(
            "miniBatchFraction must be in (0, 1], got {fraction}"
        ));
    }
    let mut rows32 = Vec::with_capacity(sel.rows.len());
    for m in 0..k {
        let (lo, hi) = (start[m] as usize, start[m + 1] as usize);
        let part = &sel.rows[lo..hi];
        let inside = range_in_block(part, first, b.len())?;
        if inside != (0..part.len()) {
            return invalid(format!(
                "model {m}: selected rows must all lie in the block's rows {first}..{}",
                first + b.len() as i64
            ));
        }
        check_labels_and_weights(sel, &(lo..hi))?;
        for &r in part {
            rows32.push(u32::try_from(r).map_err(|_| {
                crate::guard::Error::Invalid(format!(
                    "row {r} is beyond the batched engine's 2^32 rows"
                ))
            })?);
        }
    }
    let models: Vec<BatchModel> = (0..k)
        .map(|m| {
            let range = start[m] as usize..start[m + 1] as usize;
            BatchModel {
                rows: &rows32[range.clone()],
                labels: &sel.labels[range.clone()],
                weights: sel.weights.map(|w| &w[range]),
            }
        })
        .collect();
    let kw = (0..k)
        .map(|m| KernelWeights {
            v: v[m * dim..(m + 1) * dim].to_vec(),
            offset: offsets[m],
        })
        .collect();
    let ids: Vec<usize> = ids.iter().map(|&i| i as usize).collect();
    Ok(acc.add_block(
        Simd::detect(),
        kind,
        rows,
        first as u64,
        &models,
        &ids,
        kw,
        iteration,
        fraction,
    )?)
}

/// Confusion counts of `model` on the selected rows of the block.
pub fn confusion(
    model: &LinearModel,
    rows: &[f32],
    dim: usize,
    first: i64,
    sel: &Selection,
) -> Result<Confusion> {
    let b = block(rows, dim, first)?;
    check_selection(sel)?;
    if model.weights.len() != dim {
        return invalid(format!(
            "weights has {} values for dim {dim}",
            model.weights.len()
        ));
    }
    let range = range_in_block(sel.rows, first, b.len())?;
    check_labels_and_weights(sel, &range)?;
    let mut c = Confusion::default();
    for i in range {
        let x = b.row((sel.rows[i] - first) as usize);
        c.add(sel.labels[i] as u8, model.predict(x));
    }
    Ok(c)
}

/// Per-chunk moments of the selected rows of the block, added exactly: with no
/// `center`, `Σ x` per feature; with one, `Σ (x - center)²`. The count is the number of
/// rows. `dim` values (then the count) in a [`GradientSum`].
pub fn moments(
    rows: &[f32],
    dim: usize,
    first: i64,
    sel_rows: &[i64],
    center: Option<&[f64]>,
) -> Result<GradientSum> {
    let b = block(rows, dim, first)?;
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

/// Inverse sample standard deviations (n - 1, as `Scaling::fit` and MLlib's
/// `StandardScaler`) from the exact sum of [`moments`] around the mean; 0 for a
/// constant feature.
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

/// The scaling of `rows` of a row-major matrix, chunked as the Spark engine computes it
/// (per-chunk f64 partials, added exactly). It equals `Scaling::fit` to about 1e-16
/// relative; `Scaling::fit` sums all rows in one f64 running sum, which no distributed
/// engine can reproduce bit for bit. (Only the tests use it here; it is what
/// `Scaling::fit` would become to make `--scale standard` bit-identical across engines.)
#[cfg(test)]
pub fn scaling_chunked(
    features: &[f32],
    dim: usize,
    rows: &[u32],
) -> Result<paws_core::standardize::Scaling> {
    let sel: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
    let mean = mean_of(&moments(features, dim, 0, &sel, None)?);
    let inv_std = inv_std_of(&moments(features, dim, 0, &sel, Some(&mean))?);
    Ok(paws_core::standardize::Scaling { mean, inv_std })
}

#[cfg(test)]
mod tests {
    use super::*;
    use paws_core::source::{GradientSource, InMemorySource};
    use paws_core::standardize::Scaling;

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
    fn selected_confusion_and_moments() {
        let (n, dim) = (600, 3);
        let x = data(n, dim);
        let rows: Vec<u32> = (0..n as u32).filter(|r| r % 5 < 2).collect();
        let sel_rows: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
        let labels: Vec<f64> = rows.iter().map(|r| (r % 2) as f64).collect();
        let model = LinearModel {
            kind: LossKind::Hinge,
            weights: vec![0.5, -0.25, 1.0],
            intercept: 0.1,
            threshold: 0.0,
        };
        let sel = Selection {
            rows: &sel_rows,
            labels: &labels,
            weights: None,
        };
        let mut c = Confusion::default();
        for b in blocks(n) {
            let part = confusion(
                &model,
                &x[b.start * dim..b.end * dim],
                dim,
                b.start as i64,
                &sel,
            )
            .unwrap();
            c = c.merge(part);
        }
        let labels_u8: Vec<u8> = labels.iter().map(|&y| y as u8).collect();
        assert_eq!(
            c,
            paws_core::eval::evaluate(&model, &x, dim, &rows, &labels_u8)
        );
        let s = scaling_chunked(&x, dim, &rows).unwrap();
        let fit = Scaling::fit(&x, dim, &rows);
        for j in 0..dim {
            assert!((s.mean[j] - fit.mean[j]).abs() <= 1e-14 * fit.mean[j].abs().max(1.0));
            assert!((s.inv_std[j] - fit.inv_std[j]).abs() <= 1e-14 * fit.inv_std[j]);
        }
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
        assert!(format!("{:?}", e(&sel(&[1, 2], &[1.0]))).contains("selLabels"));
        assert!(format!("{:?}", e(&sel(&[3, 2], &[1.0, 0.0]))).contains("ascending"));
        assert!(format!("{:?}", e(&sel(&[1, 2], &[1.0, 2.0]))).contains("label 2"));
        assert!(gradient(k, &x, 2, -1, &sel(&[1], &[1.0]), &w, 1, 1.0).is_err());
        assert!(gradient(k, &x, 3, 0, &sel(&[1], &[1.0]), &w, 1, 1.0).is_err());
        // Rows outside the block are ignored, not errors.
        let s = gradient(k, &x, 2, 100, &sel(&[1, 2], &[1.0, 0.0]), &w, 1, 1.0).unwrap();
        assert_eq!(s.count(), 0);
    }
}
