//! Training against an independent f64 reference of MLlib's `runMiniBatchSGD`, written
//! here from the Spark 3.5 sources with plain loops: no chunks, no fixed-point sums, no
//! folded standardisation, the intercept as an appended 1.0 feature.

use paws_core::access::source::InMemorySource;
use paws_core::kernels::gradient::LossKind;
use paws_core::optimiser::sgd::{train, SgdParams};
use paws_core::optimiser::standardize::{FeatureMap, Scaling};
use paws_core::optimiser::updater::UpdaterKind;

/// Seeded data with class structure: label 1 rows are shifted along a direction.
fn synthetic(n: usize, dim: usize, seed: u64) -> (Vec<f32>, Vec<f64>) {
    let mut s = seed;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut x = Vec::with_capacity(n * dim);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let label = (i % 3 == 0) as u8 as f64;
        for j in 0..dim {
            let shift = if label > 0.0 && j % 4 == 0 { 0.8 } else { 0.0 };
            // Non-negative like CNN features; values exactly representable as f32.
            x.push(((next() * 2.0 + shift) as f32).max(0.0));
        }
        y.push(label);
    }
    (x, y)
}

struct Reference {
    loss: LossKind,
    updater: UpdaterKind,
    step: f64,
    iters: u32,
    reg: f64,
    tol: f64,
}

impl Reference {
    /// From zeros, or with an intercept from zeros and a trailing 1.0, as MLlib's
    /// `GeneralizedLinearAlgorithm` starts (`appendBias(initialWeights)`).
    fn run(&self, rows: &[Vec<f64>], labels: &[f64], intercept: bool) -> (Vec<f64>, Vec<f64>, u32) {
        let mut start = vec![0.0; rows[0].len()];
        if intercept {
            *start.last_mut().unwrap() = 1.0;
        }
        run_from(self, rows, labels, start)
    }

    fn update(&self, w: &mut [f64], g: &[f64], step_size: f64, iter: u32) -> f64 {
        let step = step_size / (iter as f64).sqrt();
        match self.updater {
            UpdaterKind::Simple => {
                for (a, b) in w.iter_mut().zip(g) {
                    *a -= step * b;
                }
                0.0
            }
            UpdaterKind::L1 => {
                for (a, b) in w.iter_mut().zip(g) {
                    *a -= step * b;
                }
                for a in w.iter_mut() {
                    *a = a.signum() * (a.abs() - self.reg * step).max(0.0);
                }
                self.reg * w.iter().map(|a| a.abs()).sum::<f64>()
            }
            UpdaterKind::L2 => {
                for (a, b) in w.iter_mut().zip(g) {
                    *a = *a * (1.0 - step * self.reg) - step * b;
                }
                0.5 * self.reg * w.iter().map(|a| a * a).sum::<f64>()
            }
        }
    }
}

fn assert_close(a: &[f64], b: &[f64], rel: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: length");
    let scale = b.iter().map(|v| v.abs()).fold(0.0, f64::max).max(1e-12);
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= rel * scale, "{what}[{i}]: {x} vs {y}");
    }
}

fn compare(loss: LossKind, updater: UpdaterKind, intercept: bool, step: f64, reg: f64, tol: f64) {
    let (n, dim) = (700, 37);
    let (x, y) = synthetic(n, dim, 0x5eed ^ dim as u64);
    let rows: Vec<u32> = (0..n as u32).collect();
    let params = SgdParams {
        loss,
        updater,
        step_size: step,
        iterations: 60,
        reg_param: reg,
        mini_batch_fraction: 1.0,
        convergence_tol: tol,
    };
    let map = FeatureMap {
        dim,
        intercept,
        scaling: None,
    };
    let src = InMemorySource::new(loss, &x, dim, &rows, &y, None);
    let ours = train(&src, params, map, None).unwrap();

    let ref_rows: Vec<Vec<f64>> = x
        .chunks(dim)
        .map(|r| {
            let mut v: Vec<f64> = r.iter().map(|&a| a as f64).collect();
            if intercept {
                v.push(1.0);
            }
            v
        })
        .collect();
    let reference = Reference {
        loss,
        updater,
        step,
        iters: 60,
        reg,
        tol,
    };
    let (w_ref, hist_ref, updates_ref) = reference.run(&ref_rows, &y, intercept);
    let what = format!("{loss:?}/{updater:?}/intercept={intercept}");
    assert_eq!(
        ours.updates, updates_ref,
        "{what}: updates before convergence"
    );
    assert_close(&ours.weights, &w_ref, 1e-9, &what);
    assert_close(&ours.loss_history, &hist_ref, 1e-9, &format!("{what} loss"));
}

/// MLlib's loop from given initial weights, with plain f64 loops.
fn run_from(
    r: &Reference,
    rows: &[Vec<f64>],
    labels: &[f64],
    start: Vec<f64>,
) -> (Vec<f64>, Vec<f64>, u32) {
    let n = rows[0].len();
    let mut w = start;
    let mut reg_val = match r.updater {
        UpdaterKind::Simple => 0.0,
        UpdaterKind::L1 => r.reg * w.iter().map(|a| a.abs()).sum::<f64>(),
        UpdaterKind::L2 => 0.5 * r.reg * w.iter().map(|a| a * a).sum::<f64>(),
    };
    let mut history = Vec::new();
    let mut last: Option<Vec<f64>> = None;
    let mut updates = 0;
    let mut i = 1;
    let mut converged = false;
    while !converged && i <= r.iters + 1 {
        let mut g = vec![0.0; n];
        let mut loss_sum = 0.0;
        for (x, &y) in rows.iter().zip(labels) {
            let dot: f64 = x.iter().zip(&w).map(|(a, b)| a * b).sum();
            let (c, l) = match r.loss {
                LossKind::Hinge => {
                    let ys = 2.0 * y - 1.0;
                    if 1.0 > ys * dot {
                        (-ys, 1.0 - ys * dot)
                    } else {
                        (0.0, 0.0)
                    }
                }
                LossKind::Logistic => {
                    let m = -dot;
                    let l1pe = if m > 0.0 {
                        m + (-m).exp().ln_1p()
                    } else {
                        m.exp().ln_1p()
                    };
                    (
                        1.0 / (1.0 + m.exp()) - y,
                        if y > 0.0 { l1pe } else { l1pe - m },
                    )
                }
            };
            for (gj, xj) in g.iter_mut().zip(x) {
                *gj += c * xj;
            }
            loss_sum += l;
        }
        let count = rows.len() as f64;
        history.push(loss_sum / count + reg_val);
        if i != r.iters + 1 {
            let mean: Vec<f64> = g.iter().map(|v| v / count).collect();
            reg_val = r.update(&mut w, &mean, r.step, i);
            updates += 1;
            if let Some(p) = last.replace(w.clone()) {
                let diff = p
                    .iter()
                    .zip(&w)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
                    .sqrt();
                let norm = w.iter().map(|v| v * v).sum::<f64>().sqrt();
                converged = diff < r.tol * norm.max(1.0);
            }
        }
        i += 1;
    }
    (w, history, updates)
}

#[test]
fn hinge_l2_matches_reference() {
    compare(LossKind::Hinge, UpdaterKind::L2, false, 1.0, 0.01, 0.001);
}

#[test]
fn hinge_l2_with_intercept_matches_reference() {
    compare(LossKind::Hinge, UpdaterKind::L2, true, 1.0, 0.01, 0.001);
}

#[test]
fn logistic_l2_matches_reference() {
    compare(LossKind::Logistic, UpdaterKind::L2, false, 1.0, 0.01, 0.001);
}

#[test]
fn logistic_l1_with_intercept_matches_reference() {
    compare(LossKind::Logistic, UpdaterKind::L1, true, 0.5, 0.02, 0.001);
}

#[test]
fn hinge_simple_without_convergence_test_runs_every_iteration() {
    compare(LossKind::Hinge, UpdaterKind::Simple, false, 0.1, 0.0, 0.0);
}

#[test]
fn convergence_stops_early_like_mllib() {
    // A large tolerance stops after the second update, exactly where MLlib stops.
    let (n, dim) = (300, 8);
    let (x, y) = synthetic(n, dim, 3);
    let rows: Vec<u32> = (0..n as u32).collect();
    let src = InMemorySource::new(LossKind::Hinge, &x, dim, &rows, &y, None);
    let params = SgdParams {
        convergence_tol: 0.9,
        ..SgdParams::default()
    };
    let t = train(
        &src,
        params,
        FeatureMap {
            dim,
            intercept: false,
            scaling: None,
        },
        None,
    )
    .unwrap();
    assert!(t.converged);
    assert!(t.updates >= 2 && t.updates < 100, "{}", t.updates);
    compare(LossKind::Hinge, UpdaterKind::L2, false, 1.0, 0.01, 0.05);
}

#[test]
fn standardised_training_equals_training_on_standardised_rows() {
    // Folding the scaler into the weights must equal materialising scaled rows.
    let (n, dim) = (400, 16);
    let (x, y) = synthetic(n, dim, 11);
    let rows: Vec<u32> = (0..n as u32).collect();
    let scaling = Scaling::fit(&x, dim, &rows);
    let folded = {
        let src = InMemorySource::new(LossKind::Logistic, &x, dim, &rows, &y, None);
        let map = FeatureMap {
            dim,
            intercept: true,
            scaling: Some(scaling.clone()),
        };
        train(
            &src,
            SgdParams {
                loss: LossKind::Logistic,
                ..SgdParams::default()
            },
            map,
            None,
        )
        .unwrap()
    };
    let scaled_rows: Vec<Vec<f64>> = x
        .chunks(dim)
        .map(|r| {
            let mut v: Vec<f64> = r
                .iter()
                .zip(&scaling.mean)
                .zip(&scaling.inv_std)
                .map(|((&a, m), s)| (a as f64 - m) * s)
                .collect();
            v.push(1.0);
            v
        })
        .collect();
    let r = Reference {
        loss: LossKind::Logistic,
        updater: UpdaterKind::L2,
        step: 1.0,
        iters: 100,
        reg: 0.01,
        tol: 0.001,
    };
    let (w, _, updates) = r.run(&scaled_rows, &y, true);
    assert_eq!(folded.updates, updates);
    assert_close(&folded.weights, &w, 1e-9, "standardised");
}

#[test]
fn weights_are_bit_identical_on_any_number_of_threads() {
    let (n, dim) = (2000, 64);
    let (x, y) = synthetic(n, dim, 99);
    let rows: Vec<u32> = (0..n as u32).filter(|r| r % 5 != 1).collect();
    let labels: Vec<f64> = rows.iter().map(|&r| y[r as usize]).collect();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let src = InMemorySource::new(LossKind::Logistic, &x, dim, &rows, &labels, None);
            let params = SgdParams {
                loss: LossKind::Logistic,
                ..SgdParams::default()
            };
            train(
                &src,
                params,
                FeatureMap {
                    dim,
                    intercept: true,
                    scaling: None,
                },
                None,
            )
            .unwrap()
            .weights
        })
    };
    let one = run(1);
    for t in [2, 4, 7] {
        let other = run(t);
        assert!(
            one.iter()
                .zip(&other)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{t} threads differ"
        );
    }
}
