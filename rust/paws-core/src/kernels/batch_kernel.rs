//! The batched chunk kernel: one chunk of rows, many models, GEMM-shaped.
//!
//! A sweep trains K models on one dataset (pairs × splits, classes × splits). Per SGD
//! iteration each model needs, per chunk, `Σ c·x` over its selected rows, where `c`
//! comes from the margin `v·x + offset`. Done model by model, every model streams the
//! rows again and does a matrix-vector product; done together, the margins of a chunk
//! are the matrix product `X·Vᵀ` and the gradients `Cᵀ·X`: the rows are read once per
//! tile and reused from registers and cache by many models.
//!
//! Exactness. Every number is computed with the same operations in the same order as
//! the one-model kernel ([`crate::kernels::gradient::accumulate_rows`]):
//! - a margin is [`crate::kernels::gradient::dot`]: four lane sums over `p mod 4`, each a
//!   sequence of `mul` then `add` in f64, combined as `(s0 + s1) + (s2 + s3)`, then the
//!   tail, then `+ offset`;
//! - a gradient entry is `g[p] += c·x[p]` (`mul` then `add`) over the model's rows in
//!   ascending order.
//!
//! Tiling only changes which independent sums run side by side, never the order within
//! one sum, and Rust never fuses a `mul` and an `add` into an FMA. So the kernel gives
//! the one-model results bit for bit whatever the tile sizes, the SIMD width the
//! compiler picks (AVX-512, AVX2, SSE2, NEON) or the other models in the batch. Rows a
//! model does not select inside a tile are computed and masked (coefficient 0): adding
//! `0·x` only changes the sign of a zero, which the fixed-point sum does not see.
//!
//! SIMD: the same generic code is compiled for AVX-512 and AVX2 and chosen at run time
//! (`PAWS_SIMD=generic|avx2|avx512` forces one, for tests and benchmarks); the shipped
//! library is built for the baseline CPU.

/// Rows per margin tile.
const MR: usize = 4;
/// Models per margin tile.
const MM: usize = 4;
/// Features per gradient block (a 4 KB slice of each model's f64 gradient).
const GP: usize = 512;
/// Rows per gradient block (64 KB of f32 features, kept in cache while every model
/// passes over it).
const GR: usize = 32;

/// Which compiled copy of the kernels runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Simd {
    Generic,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Simd {
    /// The best this CPU supports, unless `PAWS_SIMD` names another.
    pub fn detect() -> Simd {
        static CHOSEN: std::sync::OnceLock<Simd> = std::sync::OnceLock::new();
        *CHOSEN.get_or_init(|| {
            let forced = std::env::var("PAWS_SIMD").ok();
            let best = Simd::available()
                .into_iter()
                .last()
                .unwrap_or(Simd::Generic);
            match forced.as_deref() {
                None | Some("") => best,
                Some(name) => Simd::available()
                    .into_iter()
                    .find(|s| s.name() == name)
                    .unwrap_or_else(|| {
                        log::warn!(
                            "PAWS_SIMD={name} is not available here; using {}",
                            best.name()
                        );
                        best
                    }),
            }
        })
    }

    /// Every variant this CPU can run, slowest first.
    pub fn available() -> Vec<Simd> {
        #[allow(unused_mut)]
        let mut v = vec![Simd::Generic];
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx2") {
                v.push(Simd::Avx2);
            }
            if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512vl") {
                v.push(Simd::Avx512);
            }
        }
        v
    }

    pub fn name(self) -> &'static str {
        match self {
            Simd::Generic => "generic",
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => "avx2",
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => "avx512",
        }
    }
}

/// `out[r·stride + m] = dot(x_r, v_m)` (without offsets) for rows `x` (`len × dim`,
/// row-major) and models `v`.
pub fn margins(simd: Simd, x: &[f32], dim: usize, v: &[&[f64]], out: &mut [f64], stride: usize) {
    let all: Vec<u32> = (0..(x.len() / dim) as u32).collect();
    let rows = vec![all.as_slice(); v.len()];
    margins_selected(simd, x, dim, v, &rows, out, stride)
}

/// [`margins`] of the rows each model selects only: `rows[m]` lists model `m`'s rows
/// (indices into `x`, ascending). `out[r·stride + m]` is set for every selected pair;
/// other entries may be written too (with the margin) or left as they are.
///
/// Models go in tiles as in [`margins`], each over the union of its models' rows: when
/// models select different subsets of a chunk (a sweep's splits), a tile computes few
/// margins nobody needs, where the full product computes every row for every model.
pub fn margins_selected(
    simd: Simd,
    x: &[f32],
    dim: usize,
    v: &[&[f64]],
    rows: &[&[u32]],
    out: &mut [f64],
    stride: usize,
) {
    let n = x.len() / dim;
    assert_eq!(x.len(), n * dim, "rows length");
    assert_eq!(rows.len(), v.len(), "one row list per model");
    assert!(v.iter().all(|m| m.len() == dim), "model length");
    assert!(stride >= v.len() && out.len() >= n.saturating_sub(1) * stride + v.len());
    assert!(
        rows.iter().all(|r| r.iter().all(|&i| (i as usize) < n)),
        "row index"
    );
    match simd {
        Simd::Generic => margins_selected_impl(x, dim, v, rows, out, stride),
        #[cfg(target_arch = "x86_64")]
        Simd::Avx2 => unsafe { margins_selected_avx2(x, dim, v, rows, out, stride) },
        #[cfg(target_arch = "x86_64")]
        Simd::Avx512 => unsafe { margins_selected_avx512(x, dim, v, rows, out, stride) },
    }
}

/// `out[i] = dot(rows[i], v)` ([`crate::kernels::gradient::dot`], bit for bit) for one model:
/// the one-model kernel's margins, several rows at a time so that the additions of
/// different rows overlap instead of waiting on each other.
pub fn row_dots(simd: Simd, rows: &[&[f32]], v: &[f64], out: &mut [f64]) {
    assert!(rows.iter().all(|r| r.len() == v.len()), "row length");
    assert!(out.len() >= rows.len(), "output length");
    match simd {
        Simd::Generic => {
            for (o, r) in out.iter_mut().zip(rows) {
                *o = dot_tile::<1, 1>([r], [v], v.len())[0][0];
            }
        }
        #[cfg(target_arch = "x86_64")]
        Simd::Avx2 => unsafe { row_dots_avx2(rows, v, out) },
        #[cfg(target_arch = "x86_64")]
        Simd::Avx512 => unsafe { row_dots_avx512(rows, v, out) },
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn row_dots_avx2(rows: &[&[f32]], v: &[f64], out: &mut [f64]) {
    x86::row_dots::<8>(rows, v, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx2")]
unsafe fn row_dots_avx512(rows: &[&[f32]], v: &[f64], out: &mut [f64]) {
    x86::row_dots::<8>(rows, v, out)
}

/// The sorted union of some models' row lists.
fn union_of(rows: &[&[u32]], out: &mut Vec<usize>) {
    out.clear();
    out.extend(rows.iter().flat_map(|r| r.iter().map(|&i| i as usize)));
    out.sort_unstable();
    out.dedup();
}

/// `g_m[p] += Σ_r coef[r·stride + m]·x_r[p]`, one row after the other in order, for the
/// models `0..g.len()` (a chunk's rows may come in several calls, in order).
pub fn gradients(
    simd: Simd,
    x: &[f32],
    dim: usize,
    coef: &[f64],
    stride: usize,
    g: &mut [&mut [f64]],
) {
    let rows = x.len() / dim;
    assert_eq!(x.len(), rows * dim, "rows length");
    assert!(g.iter().all(|m| m.len() >= dim), "gradient length");
    assert!(stride >= g.len() && coef.len() >= rows.saturating_sub(1) * stride + g.len());
    match simd {
        Simd::Generic => gradients_impl(x, dim, coef, stride, g),
        #[cfg(target_arch = "x86_64")]
        Simd::Avx2 => unsafe { gradients_avx2(x, dim, coef, stride, g) },
        #[cfg(target_arch = "x86_64")]
        Simd::Avx512 => unsafe { gradients_avx512(x, dim, coef, stride, g) },
    }
}

/// A compiled copy of the margin tiles: `R` rows × `M` models per tile.
macro_rules! margins_variant {
    ($name:ident, $features:literal, $r:literal, $m:literal) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $features)]
        unsafe fn $name(
            x: &[f32],
            dim: usize,
            v: &[&[f64]],
            rows: &[&[u32]],
            out: &mut [f64],
            stride: usize,
        ) {
            x86::margins_selected::<$r, $m>(x, dim, v, rows, out, stride)
        }
    };
}
margins_variant!(margins_selected_avx2, "avx2", 4, 2);
// The same 4-lane tiles compiled for AVX-512. Its 32 registers would hold 8 × 2 tiles;
// 4 × 2 is kept because it was the faster shape (BENCHMARKS.md): re-measure before
// changing it on another CPU.
margins_variant!(margins_selected_avx512, "avx512f,avx512vl,avx2", 4, 2);

/// The margin tiles with explicit 4 × f64 vectors: lane `l` of an accumulator is the
/// sum over `p ≡ l (mod 4)` of `gradient::dot`, one `mul` then one `add` per step.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// [`super::margins_selected`]: the tiles of `margins` over each model group's rows.
    #[target_feature(enable = "avx2")]
    pub unsafe fn margins_selected<const R: usize, const M: usize>(
        x: &[f32],
        dim: usize,
        v: &[&[f64]],
        rows: &[&[u32]],
        out: &mut [f64],
        stride: usize,
    ) {
        let mut union = Vec::new();
        let mut m = 0;
        while m < v.len() {
            let nm = (v.len() - m).min(M);
            if nm < M {
                // The last models alone, each over its own rows only.
                for (j, r) in rows.iter().enumerate().skip(m) {
                    union.clear();
                    union.extend(r.iter().map(|&i| i as usize));
                    one_model(x, dim, &union, v, j, out, stride);
                }
                break;
            }
            super::union_of(&rows[m..m + nm], &mut union);
            let mut i = 0;
            while i + R <= union.len() {
                let idx: [usize; R] = std::array::from_fn(|k| union[i + k]);
                tile::<R, M>(x, dim, idx, v, m, out, stride);
                i += R;
            }
            for &r in &union[i..] {
                for j in m..m + nm {
                    tile::<1, 1>(x, dim, [r], v, j, out, stride);
                }
            }
            m += nm;
        }
    }

    /// Model `j`'s margins of rows `idx` (ascending), [`ONE_MODEL_ROWS`] rows a tile.
    ///
    /// A sweep's groups are mostly single models (each split selects its own rows), and
    /// the rows of a chunk come from memory once per pass: more rows a tile means more
    /// of them streaming at once and the weights loaded fewer times. W1 in process
    /// (`paws-bench run --workload w1`, 2026-12-03, Xeon with AVX-512, 2 cores, six
    /// alternating runs each) trained in 1.25-1.35 s (median 1.32) against 1.36-1.45 s
    /// (median 1.43) with the 4-row tiles and single rows of the model pairs; 12-row
    /// tiles were no faster.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn one_model(
        x: &[f32],
        dim: usize,
        idx: &[usize],
        v: &[&[f64]],
        j: usize,
        out: &mut [f64],
        stride: usize,
    ) {
        let mut i = 0;
        while i + ONE_MODEL_ROWS <= idx.len() {
            let t: [usize; ONE_MODEL_ROWS] = std::array::from_fn(|k| idx[i + k]);
            tile::<ONE_MODEL_ROWS, 1>(x, dim, t, v, j, out, stride);
            i += ONE_MODEL_ROWS;
        }
        if i + 4 <= idx.len() {
            tile::<4, 1>(
                x,
                dim,
                [idx[i], idx[i + 1], idx[i + 2], idx[i + 3]],
                v,
                j,
                out,
                stride,
            );
            i += 4;
        }
        // One row alone waits on its own additions: two rows at least overlap theirs.
        if i + 2 <= idx.len() {
            tile::<2, 1>(x, dim, [idx[i], idx[i + 1]], v, j, out, stride);
            i += 2;
        }
        if i < idx.len() {
            tile::<1, 1>(x, dim, [idx[i]], v, j, out, stride);
        }
    }

    /// Rows per tile of a model alone: 8 accumulators, a row's values and the weights
    /// fit in AVX2's 16 registers.
    const ONE_MODEL_ROWS: usize = 8;

    /// Rows `idx` of `x` × models `m..m + M`, written to `out[idx[i]·stride + m + j]`.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn tile<const R: usize, const M: usize>(
        x: &[f32],
        dim: usize,
        idx: [usize; R],
        v: &[&[f64]],
        m: usize,
        out: &mut [f64],
        stride: usize,
    ) {
        let xs: [&[f32]; R] = std::array::from_fn(|i| &x[idx[i] * dim..(idx[i] + 1) * dim]);
        let t = dots::<R, M>(xs, &v[m..m + M], dim);
        for i in 0..R {
            let at = idx[i] * stride + m;
            out[at..at + M].copy_from_slice(&t[i]);
        }
    }

    /// [`super::row_dots`]: tiles of `R` rows × 1 model.
    #[target_feature(enable = "avx2")]
    pub unsafe fn row_dots<const R: usize>(rows: &[&[f32]], v: &[f64], out: &mut [f64]) {
        let dim = v.len();
        let mut i = 0;
        while i + R <= rows.len() {
            let xs: [&[f32]; R] = std::array::from_fn(|k| rows[i + k]);
            let t = dots::<R, 1>(xs, &[v], dim);
            for k in 0..R {
                out[i + k] = t[k][0];
            }
            i += R;
        }
        for k in i..rows.len() {
            out[k] = dots::<1, 1>([rows[k]], &[v], dim)[0][0];
        }
    }

    /// The `R × M` dot products of rows `x` and models `v`.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn dots<const R: usize, const M: usize>(
        x: [&[f32]; R],
        v: &[&[f64]],
        dim: usize,
    ) -> [[f64; M]; R] {
        assert!(x.iter().all(|r| r.len() >= dim) && v.len() >= M);
        let xp: [*const f32; R] = std::array::from_fn(|i| x[i].as_ptr());
        let vp: [*const f64; M] = std::array::from_fn(|j| {
            assert!(v[j].len() >= dim);
            v[j].as_ptr()
        });
        let q = dim / 4;
        let mut acc = [[_mm256_setzero_pd(); M]; R];
        for b in 0..q {
            let p = 4 * b;
            let xs: [__m256d; R] =
                std::array::from_fn(|i| _mm256_cvtps_pd(_mm_loadu_ps(xp[i].add(p))));
            for j in 0..M {
                let vj = _mm256_loadu_pd(vp[j].add(p));
                for i in 0..R {
                    acc[i][j] = _mm256_add_pd(acc[i][j], _mm256_mul_pd(xs[i], vj));
                }
            }
        }
        let mut out = [[0f64; M]; R];
        for i in 0..R {
            for j in 0..M {
                let mut s = [0f64; 4];
                _mm256_storeu_pd(s.as_mut_ptr(), acc[i][j]);
                let mut total = (s[0] + s[1]) + (s[2] + s[3]);
                for p in 4 * q..dim {
                    total += *xp[i].add(p) as f64 * *vp[j].add(p);
                }
                out[i][j] = total;
            }
        }
        out
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn gradients_avx2(x: &[f32], dim: usize, coef: &[f64], stride: usize, g: &mut [&mut [f64]]) {
    gradients_impl(x, dim, coef, stride, g)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx2")]
unsafe fn gradients_avx512(
    x: &[f32],
    dim: usize,
    coef: &[f64],
    stride: usize,
    g: &mut [&mut [f64]],
) {
    gradients_impl(x, dim, coef, stride, g)
}

#[inline(always)]
fn margins_selected_impl(
    x: &[f32],
    dim: usize,
    v: &[&[f64]],
    rows: &[&[u32]],
    out: &mut [f64],
    stride: usize,
) {
    let row = |r: usize| &x[r * dim..(r + 1) * dim];
    let mut union = Vec::new();
    let mut m = 0;
    while m < v.len() {
        let nm = (v.len() - m).min(MM);
        union_of(&rows[m..m + nm], &mut union);
        let mut i = 0;
        while nm == MM && i + MR <= union.len() {
            let xs: [&[f32]; MR] = std::array::from_fn(|k| row(union[i + k]));
            let vs: [&[f64]; MM] = std::array::from_fn(|j| v[m + j]);
            let t = dot_tile::<MR, MM>(xs, vs, dim);
            for (k, tr) in t.iter().enumerate() {
                let at = union[i + k] * stride + m;
                out[at..at + MM].copy_from_slice(tr);
            }
            i += MR;
        }
        for &r in &union[i..] {
            for j in m..m + nm {
                out[r * stride + j] = dot_tile::<1, 1>([row(r)], [v[j]], dim)[0][0];
            }
        }
        m += nm;
    }
}

/// `R × M` dot products in `gradient::dot`'s order.
#[inline(always)]
fn dot_tile<const R: usize, const M: usize>(
    x: [&[f32]; R],
    v: [&[f64]; M],
    dim: usize,
) -> [[f64; M]; R] {
    let q = dim / 4;
    for xr in &x {
        assert!(xr.len() >= dim);
    }
    for vm in &v {
        assert!(vm.len() >= dim);
    }
    let mut acc = [[[0f64; 4]; M]; R];
    for b in 0..q {
        let p = 4 * b;
        let xs: [[f64; 4]; R] = std::array::from_fn(|i| {
            let s = &x[i][p..p + 4];
            [s[0] as f64, s[1] as f64, s[2] as f64, s[3] as f64]
        });
        for j in 0..M {
            let s = &v[j][p..p + 4];
            let vj = [s[0], s[1], s[2], s[3]];
            for i in 0..R {
                for l in 0..4 {
                    acc[i][j][l] += xs[i][l] * vj[l];
                }
            }
        }
    }
    let mut out = [[0f64; M]; R];
    for i in 0..R {
        for j in 0..M {
            let s = acc[i][j];
            let mut total = (s[0] + s[1]) + (s[2] + s[3]);
            for p in 4 * q..dim {
                total += x[i][p] as f64 * v[j][p];
            }
            out[i][j] = total;
        }
    }
    out
}

#[inline(always)]
fn gradients_impl(x: &[f32], dim: usize, coef: &[f64], stride: usize, g: &mut [&mut [f64]]) {
    let rows = x.len() / dim;
    // Blocks of GR rows × GP features (GP·8 bytes of each model's gradient stay in L1
    // while the block's rows pass); inside, a plain axpy per row and model that the
    // compiler vectorises. Each g entry still sees its rows in ascending order, and rows
    // with a zero coefficient are skipped, exactly as the one-model kernel skips them.
    let mut r0 = 0;
    while r0 < rows {
        let r1 = (r0 + GR).min(rows);
        let mut p0 = 0;
        while p0 < dim {
            let p1 = (p0 + GP).min(dim);
            for (j, gj) in g.iter_mut().enumerate() {
                let gj = &mut gj[p0..p1];
                for r in r0..r1 {
                    let c = coef[r * stride + j];
                    if c != 0.0 {
                        let xr = &x[r * dim + p0..r * dim + p1];
                        for (a, &b) in gj.iter_mut().zip(xr) {
                            *a += c * b as f64;
                        }
                    }
                }
            }
            p0 = p1;
        }
        r0 = r1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::gradient::{axpy, dot};

    fn data(rows: usize, dim: usize, models: usize) -> (Vec<f32>, Vec<Vec<f64>>) {
        let x = (0..rows * dim)
            .map(|i| ((i * 7919 + 13) % 1009) as f32 / 97.0 - 5.0)
            .collect();
        let v = (0..models)
            .map(|m| {
                (0..dim)
                    .map(|p| ((p * 31 + m * 17) % 101) as f64 / 53.0 - 0.9)
                    .collect()
            })
            .collect();
        (x, v)
    }

    /// `out[r·stride + m]` is `dot(x_r, v_m)`, bit for bit, for each `(r, m)` of `pairs`.
    fn assert_margins(
        simd: Simd,
        out: &[f64],
        stride: usize,
        x: &[f32],
        dim: usize,
        v: &[Vec<f64>],
        pairs: impl Iterator<Item = (usize, usize)>,
    ) {
        for (r, m) in pairs {
            let want = dot(&x[r * dim..(r + 1) * dim], &v[m]);
            assert_eq!(
                out[r * stride + m].to_bits(),
                want.to_bits(),
                "{simd:?} r{r} m{m}"
            );
        }
    }

    #[test]
    fn margins_equal_the_one_model_dot_bit_for_bit_on_every_simd_path() {
        // Odd sizes: partial tiles in rows, models and the feature tail.
        for (rows, dim, models) in [(9, 37, 7), (4, 4, 4), (1, 3, 1), (33, 130, 13)] {
            let (x, v) = data(rows, dim, models);
            let vs: Vec<&[f64]> = v.iter().map(|m| m.as_slice()).collect();
            for simd in Simd::available() {
                let stride = models + 2;
                let mut out = vec![f64::NAN; rows * stride];
                margins(simd, &x, dim, &vs, &mut out, stride);
                let all = (0..rows).flat_map(|r| (0..models).map(move |m| (r, m)));
                assert_margins(simd, &out, stride, &x, dim, &v, all);
            }
        }
    }

    #[test]
    fn selected_margins_equal_the_one_model_dot_bit_for_bit_on_every_simd_path() {
        for (rows, dim, models) in [(9, 37, 7), (40, 130, 13), (3, 4, 2), (33, 16, 1)] {
            let (x, v) = data(rows, dim, models);
            let vs: Vec<&[f64]> = v.iter().map(|m| m.as_slice()).collect();
            // Each model its own subset: every row, none, every k-th, a middle run.
            let lists: Vec<Vec<u32>> = (0..models)
                .map(|m| match m % 4 {
                    0 => (0..rows as u32).collect(),
                    1 => vec![],
                    2 => (0..rows as u32)
                        .filter(|r| r % (m as u32 + 2) == 1)
                        .collect(),
                    _ => (rows as u32 / 3..rows as u32 * 2 / 3).collect(),
                })
                .collect();
            let refs: Vec<&[u32]> = lists.iter().map(|l| l.as_slice()).collect();
            for simd in Simd::available() {
                let stride = models + 1;
                let mut out = vec![f64::NAN; rows * stride];
                margins_selected(simd, &x, dim, &vs, &refs, &mut out, stride);
                let selected = lists
                    .iter()
                    .enumerate()
                    .flat_map(|(m, list)| list.iter().map(move |&r| (r as usize, m)));
                assert_margins(simd, &out, stride, &x, dim, &v, selected);
            }
        }
    }

    #[test]
    fn row_dots_equal_the_one_model_dot_bit_for_bit_on_every_simd_path() {
        for (rows, dim) in [(19, 37), (8, 4), (1, 3), (40, 130)] {
            let (x, v) = data(rows, dim, 1);
            // Rows in any order and from anywhere: every third row, then the others.
            let order: Vec<usize> = (0..rows)
                .filter(|r| r % 3 == 0)
                .chain((0..rows).filter(|r| r % 3 != 0))
                .collect();
            let slices: Vec<&[f32]> = order.iter().map(|&r| &x[r * dim..(r + 1) * dim]).collect();
            for simd in Simd::available() {
                let mut out = vec![f64::NAN; rows];
                row_dots(simd, &slices, &v[0], &mut out);
                for (i, s) in slices.iter().enumerate() {
                    assert_eq!(
                        out[i].to_bits(),
                        dot(s, &v[0]).to_bits(),
                        "{simd:?} row {i}"
                    );
                }
            }
        }
    }

    #[test]
    fn gradients_equal_row_by_row_axpy_bit_for_bit_on_every_simd_path() {
        for (rows, dim, models) in [(70, 37, 11), (32, 16, 8), (5, 3, 2), (40, 130, 17)] {
            let (x, _) = data(rows, dim, 0);
            let stride = models + 1;
            // Coefficients with zeros (unselected rows) and both signs.
            let coef: Vec<f64> = (0..rows * stride)
                .map(|i| {
                    if i % 5 == 0 {
                        0.0
                    } else {
                        ((i * 37) % 19) as f64 / 7.0 - 1.3
                    }
                })
                .collect();
            for simd in Simd::available() {
                // The sums start from a value and take the rows in two calls (as a
                // chunk's blocks come): the kernel adds, row after row.
                let start =
                    |m: usize| -> Vec<f64> { (0..dim).map(|p| (p * m) as f64 / 3.0).collect() };
                let mut gs: Vec<Vec<f64>> = (0..models).map(start).collect();
                let cut = rows / 3;
                let mut refs: Vec<&mut [f64]> = gs.iter_mut().map(|g| g.as_mut_slice()).collect();
                gradients(simd, &x[..cut * dim], dim, &coef, stride, &mut refs);
                gradients(
                    simd,
                    &x[cut * dim..],
                    dim,
                    &coef[cut * stride..],
                    stride,
                    &mut refs,
                );
                for (m, got) in gs.iter().enumerate() {
                    let mut want = start(m);
                    for r in 0..rows {
                        let c = coef[r * stride + m];
                        if c != 0.0 {
                            axpy(c, &x[r * dim..(r + 1) * dim], &mut want);
                        }
                    }
                    for p in 0..dim {
                        // Masked rows may flip the sign of a zero only.
                        assert!(
                            got[p] == want[p] && (got[p] != 0.0 || want[p] == 0.0),
                            "{simd:?} m{m} p{p}"
                        );
                        if got[p] != 0.0 {
                            assert_eq!(got[p].to_bits(), want[p].to_bits(), "{simd:?} m{m} p{p}");
                        }
                    }
                }
            }
        }
    }
}
