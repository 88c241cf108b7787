//! Training a whole sweep with one pass over the data per SGD iteration.
//!
//! A sweep (comparisons × splits) is K models on one dataset. Each keeps its own rows,
//! labels, row weights, weights and MLlib state ([`Sgd`]); all of them advance one
//! iteration per pass, so one pass over the rows serves every model that is not done.
//! Per chunk of [`CHUNK_ROWS`] dataset rows, the models with rows in it are grouped by
//! the span of rows they select there (in data ordered by breed, a one-vs-one model
//! only spans its two breeds' rows, so it never reads other breeds' rows), and each
//! group runs the GEMM-shaped [`batch_kernel`](crate::kernels::batch_kernel): the margins
//! of every group block of rows by block of rows (a block stays in L2 while all groups
//! read it), then each group's coefficients and gradients (block by block too when one
//! group reads the chunk, as in a single model's pass). Blocks stored sparse
//! ([`SweepAccumulator::add_selected`] with [`BlockRows::Sparse`]) go model by model
//! through [`crate::kernels::sparse`] instead.
//!
//! The per-chunk partials are exactly the one-model kernel's (see `batch_kernel`), and
//! they are added with the same [`GradientSum`], so every model's weights are those of
//! [`sgd::train`](crate::optimiser::sgd::train) over an [`InMemorySource`](crate::access::source::InMemorySource)
//! bit for bit, whatever the batch, the threads or the SIMD path.

use crate::access::selection::{self, Selection};
use crate::data::chunk::{in_mini_batch, CHUNK_ROWS};
use crate::data::error::{PawsError, Result};
use crate::data::exact_sum::GradientSum;
use crate::kernels::batch_kernel::{gradients, margins_selected, Simd};
use crate::kernels::gradient::{coefficient, KernelWeights, LossKind};
use crate::kernels::sparse::{SparseModel, SparseRows};
use crate::optimiser::sgd::{Sgd, SgdParams, Trained};
use crate::optimiser::standardize::FeatureMap;
use rayon::prelude::*;
use std::ops::Range;
use std::sync::Mutex;

/// Receives one model's partial sums over one chunk: `(model, gradient, loss, rows)`.
type EmitSum<'a> = dyn FnMut(usize, &[f64], f64, u64) + 'a;

/// Rows of a chunk per block of margins: every model group's margins of a block are
/// computed before the next block, while its rows (512 KB of 4,096-d rows) are in L2
/// (2026-12-03: W1 1.29–1.34 s with 64-row blocks, 1.31–1.33 s with 32, 1.44–1.54 s
/// group by group over whole chunks). A chunk of one group also adds each block's
/// gradients then (see `add_chunk`).
const BLOCK_ROWS: u32 = 32;

/// Models of one chunk per parallel work item of a pass.
const MEMBERS_PER_ITEM: usize = 32;

/// One model's training rows in the dataset.
#[derive(Debug, Clone, Copy)]
pub struct BatchModel<'a> {
    /// Dataset rows, strictly ascending.
    pub rows: &'a [u32],
    /// Label (0 or 1) of each row.
    pub labels: &'a [f64],
    /// Optional weight of each row (class weighting); MLlib's is 1.0.
    pub weights: Option<&'a [f64]>,
}

/// One model's rows inside one chunk: the range of its `rows` that falls there.
#[derive(Debug, Clone)]
struct Member {
    model: usize,
    range: Range<usize>,
}

/// For every chunk of the dataset, the models with rows in it.
#[derive(Debug, Clone)]
pub struct BatchPlan {
    chunks: Vec<(usize, Vec<Member>)>,
}

impl BatchPlan {
    pub fn new(models: &[BatchModel]) -> Result<Self> {
        let mut by_chunk: std::collections::BTreeMap<usize, Vec<Member>> = Default::default();
        for (k, m) in models.iter().enumerate() {
            if m.labels.len() != m.rows.len() || m.weights.is_some_and(|w| w.len() != m.rows.len())
            {
                return Err(PawsError::invalid(format!(
                    "model {k}: {} rows, {} labels, {:?} weights",
                    m.rows.len(),
                    m.labels.len(),
                    m.weights.map(<[f64]>::len)
                )));
            }
            if !m.rows.windows(2).all(|p| p[0] < p[1]) {
                return Err(PawsError::invalid(format!(
                    "model {k}: rows must be strictly ascending"
                )));
            }
            let mut start = 0;
            while start < m.rows.len() {
                let chunk = m.rows[start] as usize / CHUNK_ROWS;
                let end = start
                    + m.rows[start..].partition_point(|&r| (r as usize) / CHUNK_ROWS == chunk);
                by_chunk.entry(chunk).or_default().push(Member {
                    model: k,
                    range: start..end,
                });
                start = end;
            }
        }
        Ok(BatchPlan {
            chunks: by_chunk.into_iter().collect(),
        })
    }
}

/// A model's rows of one chunk, after mini-batch sampling: (chunk offset, label, weight).
type Selected = Vec<(u32, f64, f64)>;

/// Reusable buffers of one worker.
#[derive(Default)]
struct Scratch {
    /// Margins of each group of models of a chunk (see `add_chunk`).
    group_margins: Vec<Vec<f64>>,
    /// Coefficients of each group's rows (0 where a model does not train).
    group_coef: Vec<Vec<f64>>,
    grads: Vec<Vec<f64>>,
}

/// Adds one chunk's partial of every model in `members` to `sums[ids[model]]`.
///
/// `x` holds the chunk's rows (`first`, `first + 1`, …) row-major. Models whose
/// kernel weights are `None` (done) are skipped.
#[allow(clippy::too_many_arguments)]
fn add_chunk(
    kind: LossKind,
    simd: Simd,
    x: &[f32],
    first: u64,
    dim: usize,
    models: &[BatchModel],
    members: &[Member],
    kw: &[Option<&KernelWeights>],
    iteration: u32,
    fraction: f64,
    scratch: &mut Scratch,
    emit: &mut EmitSum,
) {
    let mut selected = sampled(models, members, kw, first, iteration, fraction);
    let span = |s: &Selected| (s[0].0, s[s.len() - 1].0);
    selected.sort_by_key(|(model, s)| (span(s), *model));

    // The groups of models with the same span of rows: (first, end) in `selected`.
    let mut groups = Vec::new();
    let mut g0 = 0;
    while g0 < selected.len() {
        let s0 = span(&selected[g0].1);
        let g1 = g0 + selected[g0..].partition_point(|(_, s)| span(s) == s0);
        groups.push((g0, g1));
        g0 = g1;
    }
    // Block of rows by block of rows, for every group: the margins of the selected rows
    // (only those: models of a sweep select different subsets), their coefficients,
    // then their `c·x`, while the block is in L2. Computing a whole chunk's margins first
    // and its gradients after read every chunk from memory twice a pass (4 MB of
    // 4,096-d rows do not stay in L2). Each model still sees its rows in ascending
    // order, so the sums are the one-model kernel's, bit for bit.
    let vs: Vec<Vec<&[f64]>> = groups
        .iter()
        .map(|&(g0, g1)| {
            selected[g0..g1]
                .iter()
                .map(|(k, _)| kw[*k].expect("active").v.as_slice())
                .collect()
        })
        .collect();
    let lists: Vec<Vec<Vec<u32>>> = groups
        .iter()
        .map(|&(g0, g1)| {
            let lo = span(&selected[g0].1).0;
            selected[g0..g1]
                .iter()
                .map(|(_, sel)| sel.iter().map(|&(off, _, _)| off - lo).collect())
                .collect()
        })
        .collect();
    for buffers in [&mut scratch.group_margins, &mut scratch.group_coef] {
        if buffers.len() < groups.len() {
            buffers.resize_with(groups.len(), Vec::new);
        }
    }
    for (q, &(g0, g1)) in groups.iter().enumerate() {
        let (lo, hi) = span(&selected[g0].1);
        let len = (hi - lo + 1) as usize * (g1 - g0);
        for buffer in [&mut scratch.group_margins[q], &mut scratch.group_coef[q]] {
            buffer.clear();
            buffer.resize(len, 0.0);
        }
    }
    let models_here = selected.len();
    if scratch.grads.len() < models_here {
        scratch.grads.resize_with(models_here, Vec::new);
    }
    for g in &mut scratch.grads[..models_here] {
        g.clear();
        g.resize(dim + 1, 0.0);
    }
    // Per model: (loss, Σ c, rows) so far, and the next of its selected rows.
    let mut totals = vec![(0.0, 0.0, 0u64); models_here];
    let mut next = vec![0usize; models_here];
    let chunk_rows = (x.len() / dim) as u32;
    // A chunk read by one group settles each block's coefficients and gradients right
    // after its margins, while the block is in L2 (K = 1 over all rows, the drop-ins'
    // shape: 14.5–14.7 → 19.7–21.5 GFLOP/s in four alternating runs of `paws-bench
    // kernels`; whole-chunk margins then gradients read the chunk from L3 or memory
    // twice). With several groups (W1's nine
    // splits) the gradients of each whole group span come after all margins: a group's
    // gradient slices then stay in L1 over more rows (settling per block made W1 train
    // in 1.33–1.43 s against 1.17–1.31 s).
    let per_block = groups.len() == 1;
    // Per group: rows (chunk offsets) whose gradients are added.
    let mut settled: Vec<u32> = groups
        .iter()
        .map(|&(g0, _)| span(&selected[g0].1).0)
        .collect();
    let mut b0 = 0;
    while b0 < chunk_rows {
        let b1 = (b0 + BLOCK_ROWS).min(chunk_rows);
        for (q, &(g0, g1)) in groups.iter().enumerate() {
            let (lo, hi) = span(&selected[g0].1);
            if hi < b0 || lo >= b1 {
                continue;
            }
            let in_block: Vec<&[u32]> = lists[q]
                .iter()
                .map(|l| {
                    let from = l.partition_point(|&r| r + lo < b0);
                    &l[from..from + l[from..].partition_point(|&r| r + lo < b1)]
                })
                .collect();
            let xs = &x[lo as usize * dim..(hi as usize + 1) * dim];
            let margins = &mut scratch.group_margins[q];
            margins_selected(simd, xs, dim, &vs[q], &in_block, margins, g1 - g0);
        }
        if !per_block && b1 < chunk_rows {
            b0 = b1;
            continue;
        }
        // Coefficients and gradients of every group's rows below `b1` not yet added.
        for (q, &(g0, g1)) in groups.iter().enumerate() {
            let (lo, hi) = span(&selected[g0].1);
            let (r0, r1) = (settled[q], b1.min(hi + 1));
            if r1 <= r0 {
                continue;
            }
            settled[q] = r1;
            let n = g1 - g0;
            let margins = &scratch.group_margins[q];
            let coef = &mut scratch.group_coef[q];
            for (j, (k, sel)) in selected[g0..g1].iter().enumerate() {
                let offset = kw[*k].expect("active").offset;
                let (loss, coef_sum, count) = &mut totals[g0 + j];
                let at_row = &mut next[g0 + j];
                while *at_row < sel.len() && sel[*at_row].0 < r1 {
                    let (off, y, weight) = sel[*at_row];
                    let at = (off - lo) as usize * n + j;
                    let (c, l) = coefficient(kind, margins[at] + offset, y);
                    let (c, l) = (c * weight, l * weight);
                    coef[at] = c;
                    if c != 0.0 {
                        *coef_sum += c;
                    }
                    *loss += l;
                    *count += 1;
                    *at_row += 1;
                }
            }
            let mut refs: Vec<&mut [f64]> = scratch.grads[g0..g1]
                .iter_mut()
                .map(|g| g.as_mut_slice())
                .collect();
            gradients(
                simd,
                &x[r0 as usize * dim..r1 as usize * dim],
                dim,
                &coef[(r0 - lo) as usize * n..],
                n,
                &mut refs,
            );
        }
        b0 = b1;
    }
    for (i, (k, _)) in selected.iter().enumerate() {
        let (loss, coef_sum, count) = totals[i];
        let g = &mut scratch.grads[i];
        g[dim] = coef_sum;
        emit(*k, g, loss, count);
    }
}

/// Each active member's rows in the chunk whose first row is `first` that iteration
/// `iteration`'s mini-batch samples; members without any are left out (a chunk without
/// sampled rows adds nothing: the one-model kernel adds zeros).
fn sampled(
    models: &[BatchModel],
    members: &[Member],
    kw: &[Option<&KernelWeights>],
    first: u64,
    iteration: u32,
    fraction: f64,
) -> Vec<(usize, Selected)> {
    let mut selected = Vec::with_capacity(members.len());
    for mem in members {
        if kw[mem.model].is_none() {
            continue;
        }
        let m = &models[mem.model];
        let sel: Selected = mem
            .range
            .clone()
            .filter(|&i| in_mini_batch(iteration, m.rows[i] as u64, fraction))
            .map(|i| {
                let off = (m.rows[i] as u64 - first) as u32;
                (off, m.labels[i], m.weights.map_or(1.0, |w| w[i]))
            })
            .collect();
        if !sel.is_empty() {
            selected.push((mem.model, sel));
        }
    }
    selected
}

/// [`add_chunk`] on sparse rows (`x`'s row 0 is dataset row `first`): model by model,
/// row by row, with the one-model kernel's operations in its order (see
/// [`crate::kernels::sparse`]), so every sum is the dense one bit for bit.
#[allow(clippy::too_many_arguments)]
fn add_chunk_sparse(
    kind: LossKind,
    x: &SparseRows,
    first: u64,
    models: &[BatchModel],
    members: &[Member],
    kw: &[Option<&KernelWeights>],
    iteration: u32,
    fraction: f64,
    scratch: &mut Scratch,
    emit: &mut EmitSum,
) {
    let dim = x.dim();
    if scratch.grads.is_empty() {
        scratch.grads.push(Vec::new());
    }
    let g = &mut scratch.grads[0];
    for (k, sel) in sampled(models, members, kw, first, iteration, fraction) {
        let w = kw[k].expect("active");
        let mut model = SparseModel::new(&w.v);
        g.clear();
        g.resize(dim + 1, 0.0);
        let (mut loss, mut coef_sum) = (0.0, 0.0);
        for &(off, y, weight) in &sel {
            let r = off as usize;
            let (c, l) = coefficient(kind, model.dot(x, r) + w.offset, y);
            let (c, l) = (c * weight, l * weight);
            if c != 0.0 {
                model.axpy(x, r, c, &mut g[..dim]);
                coef_sum += c;
            }
            loss += l;
        }
        g[dim] = coef_sum;
        emit(k, g, loss, sel.len() as u64);
    }
}

/// The number of models K of an `add_selected` call: `start` rises from 0 to the
/// selection's rows in K + 1 entries, and `ids` holds K ids.
fn check_members(ids: &[i32], start: &[i32], sel: &Selection) -> Result<usize> {
    sel.check_lengths()?;
    let invalid = |m: String| Err(PawsError::invalid(m));
    let Some(k) = start.len().checked_sub(1) else {
        return invalid("selStart must have K + 1 entries".into());
    };
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
    Ok(k)
}

/// One pass: the gradient sums of every active model (`kw[k]` is `Some`), by model.
#[allow(clippy::too_many_arguments)]
pub fn gradient_sums(
    simd: Simd,
    kind: LossKind,
    features: &[f32],
    dim: usize,
    models: &[BatchModel],
    plan: &BatchPlan,
    kw: &[Option<&KernelWeights>],
    iteration: u32,
    fraction: f64,
) -> Vec<Option<GradientSum>> {
    let n_rows = features.len() / dim;
    // Work items of at most MEMBERS_PER_ITEM models of one chunk: a chunk that many models
    // read (a breed's chunk in a sweep of that breed's pairs) is shared between threads
    // instead of keeping one busy while the other waits.
    let items: Vec<(usize, &[Member])> = plan
        .chunks
        .iter()
        .flat_map(|(chunk, members)| members.chunks(MEMBERS_PER_ITEM).map(|m| (*chunk, m)))
        .collect();
    // One sum per model, shared by the threads: exact sums do not depend on the order
    // chunks are added in, and there is one allocation per model, not one per thread.
    let sums: Vec<Mutex<Option<GradientSum>>> =
        (0..models.len()).map(|_| Mutex::new(None)).collect();
    items
        .par_iter()
        .for_each_init(Scratch::default, |scratch, &(chunk, members)| {
            let first = chunk * CHUNK_ROWS;
            let end = (first + CHUNK_ROWS).min(n_rows);
            let x = &features[first * dim..end * dim];
            add_chunk(
                kind,
                simd,
                x,
                first as u64,
                dim,
                models,
                members,
                kw,
                iteration,
                fraction,
                scratch,
                &mut |k, g, loss, count| {
                    sums[k]
                        .lock()
                        .expect("no panic while holding a sum")
                        .get_or_insert_with(|| GradientSum::zeros(dim + 1))
                        .add_chunk(g, loss, count)
                },
            );
        });
    sums.into_iter()
        .map(|s| s.into_inner().expect("no panic while holding a sum"))
        .collect()
}

/// A block's rows as the accumulator reads them. Sparse rows give every sum of the same
/// rows dense, bit for bit (see [`crate::kernels::sparse`]).
#[derive(Debug, Clone, Copy)]
pub enum BlockRows<'a> {
    /// Row-major, `dim` values a row.
    Dense(&'a [f32]),
    Sparse(SparseRows<'a>),
}

impl BlockRows<'_> {
    /// The number of rows, checked against `dim`.
    fn rows(&self, dim: usize) -> Result<usize> {
        match self {
            BlockRows::Dense(x) if dim > 0 && x.len() % dim == 0 => Ok(x.len() / dim),
            BlockRows::Dense(x) => Err(PawsError::invalid(format!(
                "rows has {} values, not a multiple of dim {dim}",
                x.len()
            ))),
            BlockRows::Sparse(x) if x.dim() == dim => Ok(x.rows()),
            BlockRows::Sparse(x) => Err(PawsError::invalid(format!(
                "a sparse block of dim {}, but the accumulator was created for dim {dim}",
                x.dim()
            ))),
        }
    }
}

/// One worker's per-model sums of a pass (a Spark task's): blocks are added as they
/// come, straight into each model's exact sum, with reused scratch buffers.
pub struct SweepAccumulator {
    dim: usize,
    sums: Vec<Option<GradientSum>>,
    scratch: Scratch,
}

impl SweepAccumulator {
    /// The feature dimension of the models.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Sums for model ids `0..models`, features of `dim`.
    pub fn new(models: usize, dim: usize) -> Self {
        SweepAccumulator {
            dim,
            sums: vec![None; models],
            scratch: Scratch::default(),
        }
    }

    /// Adds the partials of `models` (ids `ids[k]`, kernel weights `kw[k]`) over one block
    /// of whole chunks: `x` holds the rows `first, first + 1, …` (`first` a multiple of
    /// [`CHUNK_ROWS`]), and every model's rows lie in the block.
    #[allow(clippy::too_many_arguments)]
    fn add_block(
        &mut self,
        simd: Simd,
        kind: LossKind,
        x: BlockRows,
        first: u64,
        models: &[BatchModel],
        ids: &[usize],
        kw: &[&KernelWeights],
        iteration: u32,
        fraction: f64,
    ) -> Result<()> {
        let dim = self.dim;
        let len = x.rows(dim)? as u64;
        if first % CHUNK_ROWS as u64 != 0 {
            return Err(PawsError::invalid(format!(
                "firstRow {first} is not at a chunk start (a multiple of {CHUNK_ROWS})"
            )));
        }
        if kw.len() != models.len()
            || ids.len() != models.len()
            || kw.iter().any(|w| w.v.len() != dim)
        {
            return Err(PawsError::invalid(format!(
                "{} kernel weight vectors and {} ids for {} models of dim {dim}",
                kw.len(),
                ids.len(),
                models.len()
            )));
        }
        if let Some(&id) = ids.iter().find(|&&id| id >= self.sums.len()) {
            return Err(PawsError::invalid(format!(
                "model id {id} out of range: the accumulator holds {} models",
                self.sums.len()
            )));
        }
        for (k, m) in models.iter().enumerate() {
            if let Some(&r) = m
                .rows
                .iter()
                .find(|&&r| (r as u64) < first || r as u64 >= first + len)
            {
                return Err(PawsError::invalid(format!(
                    "model {k}: row {r} is outside the block's rows {first}..{}",
                    first + len
                )));
            }
        }
        let plan = BatchPlan::new(models)?;
        let kw: Vec<Option<&KernelWeights>> = kw.iter().copied().map(Some).collect();
        for (chunk, members) in &plan.chunks {
            let start = (*chunk * CHUNK_ROWS) as u64;
            let end = (start + CHUNK_ROWS as u64).min(first + len);
            let (a, b) = ((start - first) as usize, (end - first) as usize);
            let sums = &mut self.sums;
            let mut emit = |k: usize, g: &[f64], loss: f64, count: u64| {
                sums[ids[k]]
                    .get_or_insert_with(|| GradientSum::zeros(dim + 1))
                    .add_chunk(g, loss, count)
            };
            match x {
                BlockRows::Dense(x) => add_chunk(
                    kind,
                    simd,
                    &x[a * dim..b * dim],
                    start,
                    dim,
                    models,
                    members,
                    &kw,
                    iteration,
                    fraction,
                    &mut self.scratch,
                    &mut emit,
                ),
                BlockRows::Sparse(x) => add_chunk_sparse(
                    kind,
                    &x.slice(a, b),
                    start,
                    models,
                    members,
                    &kw,
                    iteration,
                    fraction,
                    &mut self.scratch,
                    &mut emit,
                ),
            }
        }
        Ok(())
    }

    /// Adds K models' partials over one block of whole chunks (global rows `first,
    /// first + 1, …`), each model given by its selected rows inside the block: model k
    /// has the entries `start[k]..start[k + 1]` of `sel` (all in the block), kernel
    /// weights `weights[k]` (borrowed: the drivers keep a pass's weights native and
    /// index them, rather than stacking a copy per block), and is model `ids[k]` of the
    /// accumulator. Each model's sum equals [`selection::gradient`] of it alone.
    #[allow(clippy::too_many_arguments)]
    pub fn add_selected(
        &mut self,
        kind: LossKind,
        rows: BlockRows,
        first: i64,
        ids: &[i32],
        start: &[i32],
        sel: &Selection,
        weights: &[&KernelWeights],
        iteration: u32,
        fraction: f64,
    ) -> Result<()> {
        let dim = self.dim;
        selection::first_row(first)?;
        let block_len = rows.rows(dim)?;
        let k = check_members(ids, start, sel)?;
        let invalid = |m: String| Err(PawsError::invalid(m));
        if weights.len() != k || weights.iter().any(|w| w.v.len() != dim) {
            return invalid(format!(
                "{k} models of dim {dim} need {k} kernel weight vectors of {dim}, got {}",
                weights.len()
            ));
        }
        if let Some(w) = weights.iter().find(|w| !w.offset.is_finite()) {
            return invalid(format!("offsets must be finite, got {}", w.offset));
        }
        selection::check_fraction(fraction)?;
        let mut rows32 = Vec::with_capacity(sel.rows.len());
        for m in 0..k {
            let (lo, hi) = (start[m] as usize, start[m + 1] as usize);
            let part = &sel.rows[lo..hi];
            let inside = selection::range_in_block(part, first, block_len)?;
            if inside != (0..part.len()) {
                return invalid(format!(
                    "model {m}: selected rows must all lie in the block's rows {first}..{}",
                    first + block_len as i64
                ));
            }
            sel.check_values(&(lo..hi))?;
            for &r in part {
                rows32.push(u32::try_from(r).map_err(|_| {
                    PawsError::invalid(format!("row {r} is beyond the batched engine's 2^32 rows"))
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
        let ids: Vec<usize> = ids.iter().map(|&i| i as usize).collect();
        self.add_block(
            Simd::detect(),
            kind,
            rows,
            first as u64,
            &models,
            &ids,
            weights,
            iteration,
            fraction,
        )
    }

    /// The sums of the models that had rows in the added blocks, by id.
    pub fn finish(self) -> Vec<(usize, GradientSum)> {
        self.sums
            .into_iter()
            .enumerate()
            .filter_map(|(id, s)| s.map(|s| (id, s)))
            .collect()
    }
}

/// Trains every model with MLlib's loop, one pass over the data per iteration for all.
///
/// `maps[k]` is model k's feature map (intercept, scaling). Equal, bit for bit, to
/// `sgd::train` of each model alone over an `InMemorySource` of its rows.
pub fn train_many(
    features: &[f32],
    dim: usize,
    models: &[BatchModel],
    params: &SgdParams,
    maps: Vec<FeatureMap>,
) -> Result<Vec<Trained>> {
    train_many_with(Simd::detect(), features, dim, models, params, maps)
}

/// [`train_many`] on a chosen SIMD path (tests and benchmarks).
pub fn train_many_with(
    simd: Simd,
    features: &[f32],
    dim: usize,
    models: &[BatchModel],
    params: &SgdParams,
    maps: Vec<FeatureMap>,
) -> Result<Vec<Trained>> {
    if maps.len() != models.len() {
        return Err(PawsError::invalid(format!(
            "{} maps for {} models",
            maps.len(),
            models.len()
        )));
    }
    if let Some(m) = maps.iter().find(|m| m.dim != dim) {
        return Err(PawsError::invalid(format!(
            "data has {dim} features, a model {}",
            m.dim
        )));
    }
    let plan = BatchPlan::new(models)?;
    let mut sgds: Vec<Sgd> = maps
        .into_iter()
        .map(|map| Sgd::new(params.clone(), map, None))
        .collect::<Result<_>>()?;
    let empty: Vec<bool> = models.iter().map(|m| m.rows.is_empty()).collect();
    if empty.iter().any(|&e| e) {
        log::warn!("no training rows for some models: they keep the initial weights");
    }
    loop {
        // The kernel weights and, below, the updates are model by model and independent,
        // so they run on every thread (with the one-pass update, W3's 6,327 models
        // trained in 102.8 s against 105.1 s: a small share of the sweep either way).
        let kw: Vec<Option<KernelWeights>> = sgds
            .par_iter()
            .zip(&empty)
            .map(|(s, &e)| (!e && !s.is_done()).then(|| s.kernel_weights()))
            .collect();
        if kw.iter().all(Option::is_none) {
            break;
        }
        let iteration = sgds
            .iter()
            .zip(&kw)
            .find_map(|(s, w)| w.as_ref().map(|_| s.iteration()))
            .expect("an active model");
        let refs: Vec<Option<&KernelWeights>> = kw.iter().map(Option::as_ref).collect();
        let mut sums = gradient_sums(
            simd,
            params.loss,
            features,
            dim,
            models,
            &plan,
            &refs,
            iteration,
            params.mini_batch_fraction,
        );
        let applied: Vec<Result<()>> = sgds
            .par_iter_mut()
            .zip(&mut sums)
            .zip(&kw)
            .map(|((sgd, sum), w)| {
                if w.is_none() {
                    return Ok(());
                }
                debug_assert_eq!(sgd.iteration(), iteration);
                let sum = sum.take().unwrap_or_else(|| GradientSum::zeros(dim + 1));
                sgd.apply(&sum)
            })
            .collect();
        // The first model's error, whatever thread found it first.
        applied.into_iter().collect::<Result<()>>()?;
    }
    Ok(sgds
        .into_iter()
        .map(|s| Trained {
            weights: s.weights().to_vec(),
            loss_history: s.loss_history().to_vec(),
            updates: s.updates(),
            converged: s.converged(),
        })
        .collect())
}
