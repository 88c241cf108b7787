//! Sparse rows: the one-model arithmetic on the non-zero values only, same bits.
//!
//! [`dot`] adds `x[j]·v[j]` to one of four partial sums,
//! the one of `j mod 4` (up to the last multiple of 4, in ascending `j`), combines them as
//! `(s0 + s1) + (s2 + s3)` and adds the tail `j ≥ dim − dim mod 4` in order. A zero
//! feature adds a signed zero, which leaves a partial sum as it is: a partial sum is never
//! −0 (it starts at +0, and +0 + −0 = +0). So the non-zero values alone give the same
//! bits, if each goes to the same partial sum in the same order. A row of [`SparseRows`]
//! is therefore stored lane by lane: the values of lane 0 (`j mod 4 = 0`) ascending, then
//! lanes 1, 2, 3, then the tail; the four lanes are summed side by side, as four
//! independent chains of additions.
//!
//! The gradient `g[j] += c·x[j]` skips the zeros the same way (the fixed-point sum does
//! not see the sign of a zero, see `batch_kernel`).
//!
//! Both hold for finite weights and coefficients only: the dense kernel computes
//! `0·∞ = NaN`. A model whose weights are not all finite, or a row whose coefficient is
//! not finite, goes through the dense arithmetic on the row filled with its zeros.

use crate::data::error::{PawsError, Result};
use crate::kernels::gradient::{axpy, dot};

/// Entries of the layout per row: lanes 0–3 and the tail.
pub const SEGMENTS: usize = 5;

/// Rows of `dim` features as their non-zero values, lane by lane.
///
/// Row `r`'s segment `s` (lanes `0..4`, then the tail) holds the entries
/// `ptr[5r + s] .. ptr[5r + s + 1]` of `indices` and `values`: the features `j` with
/// `j mod 4 = s` below `dim − dim mod 4` for a lane, those from there on for the tail,
/// ascending. `ptr` has `5·rows + 1` entries, from 0 to `indices.len()`.
#[derive(Debug, Clone, Copy)]
pub struct SparseRows<'a> {
    ptr: &'a [i32],
    indices: &'a [i32],
    values: &'a [f32],
    dim: usize,
}

impl<'a> SparseRows<'a> {
    /// Checks the shape (`ptr` rising from 0 to the entries, as many indices as values)
    /// and that every index lies in `0..dim`. An index in a wrong lane or order is not
    /// found: it changes the rounding, not what is read.
    pub fn new(ptr: &'a [i32], indices: &'a [i32], values: &'a [f32], dim: usize) -> Result<Self> {
        let invalid = |m: String| Err(PawsError::invalid(m));
        if dim == 0 {
            return invalid("dim must be positive".into());
        }
        if ptr.len() % SEGMENTS != 1 {
            return invalid(format!(
                "a sparse block's pointers must be 5 per row and one more, got {}",
                ptr.len()
            ));
        }
        if indices.len() != values.len() {
            return invalid(format!(
                "a sparse block has {} indices and {} values",
                indices.len(),
                values.len()
            ));
        }
        if ptr[0] != 0
            || ptr[ptr.len() - 1] as i64 != indices.len() as i64
            || ptr.windows(2).any(|p| p[0] > p[1])
        {
            return invalid(format!(
                "a sparse block's pointers must rise from 0 to its {} entries",
                indices.len()
            ));
        }
        // One pass over the indices (vectorised): the kernels then read `v` and `g`
        // without bounds checks.
        let max = indices.iter().fold(0u32, |m, &j| m.max(j as u32));
        if !indices.is_empty() && max as usize >= dim {
            let (at, j) = indices
                .iter()
                .enumerate()
                .find(|(_, &j)| j < 0 || j as usize >= dim)
                .expect("an index out of range");
            return invalid(format!(
                "a sparse block's entry {at} has feature index {j}, outside 0..{dim}"
            ));
        }
        Ok(SparseRows {
            ptr,
            indices,
            values,
            dim,
        })
    }

    pub fn rows(&self) -> usize {
        self.ptr.len() / SEGMENTS
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Rows `range` of the block (the pointers keep their absolute offsets).
    pub fn slice(&self, from: usize, to: usize) -> SparseRows<'a> {
        SparseRows {
            ptr: &self.ptr[from * SEGMENTS..to * SEGMENTS + 1],
            ..*self
        }
    }

    /// Segment `s` of row `r`: (indices, values).
    #[inline]
    fn segment(&self, r: usize, s: usize) -> (&'a [i32], &'a [f32]) {
        let (a, b) = (
            self.ptr[r * SEGMENTS + s] as usize,
            self.ptr[r * SEGMENTS + s + 1] as usize,
        );
        (&self.indices[a..b], &self.values[a..b])
    }

    /// `dot(row r, v)`, bit for bit, from the non-zero values (`v` finite, `dim` long).
    #[inline]
    pub fn dot(&self, r: usize, v: &[f64]) -> f64 {
        assert_eq!(v.len(), self.dim, "weights length");
        let lanes = [
            self.segment(r, 0),
            self.segment(r, 1),
            self.segment(r, 2),
            self.segment(r, 3),
        ];
        // The four lanes side by side while all have values (four independent chains of
        // additions), then what is left of each. (Lanes sorted by length, to keep three
        // and then two chains side by side after the shortest ends, measured slower.)
        let common = lanes.iter().map(|l| l.0.len()).min().unwrap_or(0);
        // Safety: `new` checked every index against `dim`, and `v` has `dim` values.
        let at = |j: i32| unsafe { *v.get_unchecked(j as usize) };
        let [(i0, x0), (i1, x1), (i2, x2), (i3, x3)] =
            lanes.map(|(idx, x)| (&idx[..common], &x[..common]));
        let mut s = [0f64; 4];
        for i in 0..common {
            s[0] += x0[i] as f64 * at(i0[i]);
            s[1] += x1[i] as f64 * at(i1[i]);
            s[2] += x2[i] as f64 * at(i2[i]);
            s[3] += x3[i] as f64 * at(i3[i]);
        }
        for (sl, (idx, x)) in s.iter_mut().zip(&lanes) {
            for (&j, &xj) in idx[common..].iter().zip(&x[common..]) {
                *sl += xj as f64 * at(j);
            }
        }
        let mut total = (s[0] + s[1]) + (s[2] + s[3]);
        let (idx, x) = self.segment(r, 4);
        for (&j, &xj) in idx.iter().zip(x) {
            total += xj as f64 * at(j);
        }
        total
    }

    /// `g[j] += c·x[j]` for the non-zero values of row `r` (`c` finite, `g` `dim` long).
    #[inline]
    pub fn axpy(&self, r: usize, c: f64, g: &mut [f64]) {
        assert_eq!(g.len(), self.dim, "gradient length");
        let (a, b) = (
            self.ptr[r * SEGMENTS] as usize,
            self.ptr[(r + 1) * SEGMENTS] as usize,
        );
        for (&j, &xj) in self.indices[a..b].iter().zip(&self.values[a..b]) {
            // Safety: `new` checked every index against `dim`, and `g` has `dim` values.
            unsafe { *g.get_unchecked_mut(j as usize) += c * xj as f64 };
        }
    }

    /// Row `r` with its zeros, into `out` (`dim` values): for non-finite weights.
    pub fn densify(&self, r: usize, out: &mut [f32]) {
        out.iter_mut().for_each(|x| *x = 0.0);
        let (a, b) = (
            self.ptr[r * SEGMENTS] as usize,
            self.ptr[(r + 1) * SEGMENTS] as usize,
        );
        for (&j, &xj) in self.indices[a..b].iter().zip(&self.values[a..b]) {
            out[j as usize] = xj;
        }
    }
}

/// The margins and gradient steps of one model over sparse rows, with the dense
/// arithmetic where weights or coefficients are not finite (see the module).
pub struct SparseModel<'w> {
    v: &'w [f64],
    finite: bool,
    row: Vec<f32>,
}

impl<'w> SparseModel<'w> {
    pub fn new(v: &'w [f64]) -> Self {
        SparseModel {
            v,
            finite: v.iter().all(|w| w.is_finite()),
            row: Vec::new(),
        }
    }

    /// `dot(row r, v)`.
    pub fn dot(&mut self, rows: &SparseRows, r: usize) -> f64 {
        if self.finite {
            rows.dot(r, self.v)
        } else {
            self.row.resize(rows.dim, 0.0);
            rows.densify(r, &mut self.row);
            dot(&self.row, self.v)
        }
    }

    /// `g += c·row r`.
    pub fn axpy(&mut self, rows: &SparseRows, r: usize, c: f64, g: &mut [f64]) {
        if c.is_finite() {
            rows.axpy(r, c, g);
        } else {
            self.row.resize(rows.dim, 0.0);
            rows.densify(r, &mut self.row);
            axpy(c, &self.row, g);
        }
    }
}

/// Builds the layout from dense row-major rows (tests, benchmarks and the in-process
/// tools; the JVM builds its own from `SparseVector`s): `(ptr, indices, values)`.
pub fn from_dense(x: &[f32], dim: usize) -> (Vec<i32>, Vec<i32>, Vec<f32>) {
    assert!(dim > 0 && x.len() % dim == 0, "rows of dim {dim}");
    let lanes_end = dim - dim % 4;
    let mut ptr = vec![0i32];
    let (mut indices, mut values) = (Vec::new(), Vec::new());
    for row in x.chunks_exact(dim) {
        for s in 0..SEGMENTS {
            let js: Box<dyn Iterator<Item = usize>> = if s < 4 {
                Box::new((s..lanes_end).step_by(4))
            } else {
                Box::new(lanes_end..dim)
            };
            for j in js {
                if row[j] != 0.0 {
                    indices.push(j as i32);
                    values.push(row[j]);
                }
            }
            ptr.push(indices.len() as i32);
        }
    }
    (ptr, indices, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows with about `density` non-zero values, signs mixed, some exact zeros of
    /// both signs.
    fn rows(n: usize, dim: usize, density: f64, seed: u64) -> Vec<f32> {
        let mut s = seed;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..n * dim)
            .map(|_| {
                let u = next();
                if u < density {
                    (next() * 4.0 - 1.5) as f32
                } else if u < density + 0.01 {
                    -0.0
                } else {
                    0.0
                }
            })
            .collect()
    }

    #[test]
    fn margins_and_gradients_are_the_dense_bits() {
        for dim in [1, 3, 4, 7, 64, 4099] {
            for density in [0.0, 0.05, 0.25, 0.6, 1.0] {
                let x = rows(9, dim, density, dim as u64);
                let v: Vec<f64> = rows(1, dim, 1.0, 99)
                    .iter()
                    .map(|&w| w as f64 * 0.37)
                    .collect();
                let (ptr, idx, val) = from_dense(&x, dim);
                let sp = SparseRows::new(&ptr, &idx, &val, dim).unwrap();
                assert_eq!(sp.rows(), 9);
                let mut model = SparseModel::new(&v);
                let (mut gd, mut gs) = (vec![0.0; dim], vec![0.0; dim]);
                for (r, row) in x.chunks_exact(dim).enumerate() {
                    let d = dot(row, &v);
                    assert_eq!(
                        model.dot(&sp, r).to_bits(),
                        d.to_bits(),
                        "dim {dim} row {r}"
                    );
                    let c = if r % 2 == 0 { -1.0 } else { 0.731 };
                    axpy(c, row, &mut gd);
                    model.axpy(&sp, r, c, &mut gs);
                }
                // Equal as numbers (a zero's sign aside, which the exact sum ignores).
                assert_eq!(gd, gs, "dim {dim} density {density}");
            }
        }
    }

    #[test]
    fn non_finite_weights_and_coefficients_take_the_dense_arithmetic() {
        let dim = 9;
        let x = rows(4, dim, 0.4, 5);
        let (ptr, idx, val) = from_dense(&x, dim);
        let sp = SparseRows::new(&ptr, &idx, &val, dim).unwrap();
        let mut v = vec![0.5; dim];
        // An infinite weight where some rows have a zero: the dense margin is NaN there.
        let j = (0..dim)
            .find(|&j| x.chunks_exact(dim).any(|r| r[j] == 0.0))
            .unwrap();
        v[j] = f64::INFINITY;
        let mut model = SparseModel::new(&v);
        for (r, row) in x.chunks_exact(dim).enumerate() {
            assert_eq!(model.dot(&sp, r).to_bits(), dot(row, &v).to_bits());
        }
        let (mut gd, mut gs) = (vec![0.0; dim], vec![0.0; dim]);
        axpy(f64::NAN, &x[..dim], &mut gd);
        model.axpy(&sp, 0, f64::NAN, &mut gs);
        assert!(gd.iter().zip(&gs).all(|(a, b)| a.is_nan() && b.is_nan()));
    }

    #[test]
    fn bad_shapes_and_indices_are_refused() {
        assert!(SparseRows::new(&[0, 0, 0, 0, 0], &[], &[], 4).is_err());
        assert!(SparseRows::new(&[0, 0, 0, 0, 0, 1], &[0], &[], 4).is_err());
        assert!(SparseRows::new(&[0, 1, 1, 1, 1, 0], &[0], &[1.0], 4).is_err());
        assert!(SparseRows::new(&[0, 0, 0, 0, 0, 0], &[], &[], 0).is_err());
        // Indices outside 0..dim are named.
        let ptr = [0, 1, 1, 1, 1, 1];
        let e = SparseRows::new(&ptr, &[7], &[1.0], 4).unwrap_err();
        assert!(e.to_string().contains("entry 0 has feature index 7"), "{e}");
        let e = SparseRows::new(&ptr, &[-1], &[1.0], 4).unwrap_err();
        assert!(e.to_string().contains("index -1"), "{e}");
    }
}
