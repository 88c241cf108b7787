//! Sparse blocks (paws_core::kernels::sparse) against the same rows dense: a Spark task's
//! accumulator (`SweepAccumulator::add_selected` on dense and on sparse `BlockRows`) gives every
//! model the same exact sum, word for word, for both losses, with row weights,
//! mini-batch sampling, a feature count that is not a multiple of 4, models of different
//! selections in one call, and a model whose weights are not all finite.

use paws_core::access::selection::Selection;
use paws_core::kernels::gradient::{KernelWeights, LossKind};
use paws_core::kernels::sparse::{from_dense, SparseRows};
use paws_core::optimiser::batch::{BlockRows, SweepAccumulator};

/// Uniform in [0, 1), seeded.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// ReLU-like rows: about `density` of the values positive, the rest zero.
fn rows(rng: &mut Rng, n: usize, dim: usize, density: f64) -> Vec<f32> {
    (0..n * dim)
        .map(|_| {
            if rng.next() < density {
                (rng.next() * 3.0) as f32
            } else {
                0.0
            }
        })
        .collect()
}

struct Models {
    ids: Vec<i32>,
    start: Vec<i32>,
    rows: Vec<i64>,
    labels: Vec<f64>,
    weights: Vec<f64>,
    kernel: Vec<KernelWeights>,
}

impl Models {
    fn kernel(&self) -> Vec<&KernelWeights> {
        self.kernel.iter().collect()
    }
}

/// Three models reading rows of the block `first..first + n`: every row, every third
/// row, and the second half; weights around zero so that most rows are inside the
/// hinge's margin; model 2's weights hold an infinity when `infinite`.
fn models(rng: &mut Rng, first: i64, n: usize, dim: usize, infinite: bool) -> Models {
    let picks: [Vec<i64>; 3] = [
        (0..n as i64).collect(),
        (0..n as i64).step_by(3).collect(),
        (n as i64 / 2..n as i64).collect(),
    ];
    let mut m = Models {
        ids: vec![4, 0, 2],
        start: vec![0],
        rows: vec![],
        labels: vec![],
        weights: vec![],
        kernel: vec![],
    };
    for (k, pick) in picks.iter().enumerate() {
        for &r in pick {
            m.rows.push(first + r);
            m.labels.push(if rng.next() < 0.5 { 1.0 } else { 0.0 });
            m.weights.push(0.5 + rng.next());
        }
        m.start.push(m.rows.len() as i32);
        m.kernel.push(KernelWeights {
            v: (0..dim).map(|_| (rng.next() - 0.5) * 0.02).collect(),
            offset: 0.1 * k as f64,
        });
    }
    if infinite {
        m.kernel[2].v[1] = f64::INFINITY;
    }
    m
}

fn words(acc: SweepAccumulator) -> Vec<(usize, Vec<i64>)> {
    acc.finish()
        .into_iter()
        .map(|(id, s)| (id, s.to_words()))
        .collect()
}

#[test]
fn sparse_blocks_give_the_dense_sums_word_for_word() {
    let mut rng = Rng(0x05EE_D0F5_AA5E);
    // Rows 512..812: two chunks, the second one short.
    let (first, n) = (512i64, 300usize);
    for dim in [37usize, 1027] {
        for density in [0.02, 0.25, 0.7] {
            let x = rows(&mut rng, n, dim, density);
            let (ptr, idx, val) = from_dense(&x, dim);
            let sparse = SparseRows::new(&ptr, &idx, &val, dim).unwrap();
            for kind in [LossKind::Hinge, LossKind::Logistic] {
                for (weighted, fraction, infinite) in
                    [(false, 1.0, false), (true, 0.5, false), (false, 1.0, true)]
                {
                    let m = models(&mut rng, first, n, dim, infinite);
                    let sel = Selection {
                        rows: &m.rows,
                        labels: &m.labels,
                        weights: weighted.then_some(m.weights.as_slice()),
                    };
                    let mut dense_acc = SweepAccumulator::new(5, dim);
                    let mut sparse_acc = SweepAccumulator::new(5, dim);
                    for iteration in [1, 2] {
                        for (acc, rows) in [
                            (&mut dense_acc, BlockRows::Dense(&x)),
                            (&mut sparse_acc, BlockRows::Sparse(sparse)),
                        ] {
                            acc.add_selected(
                                kind,
                                rows,
                                first,
                                &m.ids,
                                &m.start,
                                &sel,
                                &m.kernel(),
                                iteration,
                                fraction,
                            )
                            .unwrap();
                        }
                    }
                    let (d, s) = (words(dense_acc), words(sparse_acc));
                    assert_eq!(d.len(), 3, "every model summed rows");
                    assert_eq!(
                        d, s,
                        "dim {dim}, density {density}, {kind:?}, weighted {weighted}, \
                         fraction {fraction}, infinite weight {infinite}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_sparse_block_of_another_dimension_or_outside_rows_is_refused() {
    let mut rng = Rng(7);
    let x = rows(&mut rng, 10, 8, 0.3);
    let (ptr, idx, val) = from_dense(&x, 8);
    let sparse = SparseRows::new(&ptr, &idx, &val, 8).unwrap();
    let m = models(&mut rng, 0, 10, 8, false);
    let sel = Selection {
        rows: &m.rows,
        labels: &m.labels,
        weights: None,
    };
    let add = |acc_dim: usize, first: i64| {
        SweepAccumulator::new(5, acc_dim)
            .add_selected(
                LossKind::Hinge,
                BlockRows::Sparse(sparse),
                first,
                &m.ids,
                &m.start,
                &sel,
                &m.kernel(),
                1,
                1.0,
            )
            .unwrap_err()
    };
    let e = add(9, 0);
    assert!(e.to_string().contains("dim 8"), "{e}");
    // The selections reach row 9; a block starting at row 256 does not hold them.
    let e = add(8, 256);
    assert!(e.to_string().contains("block"), "{e}");
}
