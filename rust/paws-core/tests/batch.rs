//! A whole sweep trained together (paws_core::optimiser::batch) against each model trained alone
//! (sgd::train over an InMemorySource): the same weights, loss histories and update
//! counts, bit for bit, on every SIMD path, for both losses, with intercepts, scaling,
//! row weights and mini-batch sampling.

use paws_core::access::source::InMemorySource;
use paws_core::kernels::batch_kernel::Simd;
use paws_core::kernels::gradient::LossKind;
use paws_core::optimiser::batch::{train_many_with, BatchModel};
use paws_core::optimiser::sgd::{train, SgdParams, Trained};
use paws_core::optimiser::standardize::{FeatureMap, Scaling};
use paws_core::optimiser::updater::UpdaterKind;

struct Data {
    features: Vec<f32>,
    dim: usize,
    class: Vec<u32>,
}

/// `n` rows of `classes` classes with class-dependent means; rows grouped by class
/// (as files sorted by breed are) or interleaved.
fn data(n: usize, dim: usize, classes: u32, grouped: bool) -> Data {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let class: Vec<u32> = (0..n)
        .map(|i| {
            if grouped {
                (i * classes as usize / n) as u32
            } else {
                (i % classes as usize) as u32
            }
        })
        .collect();
    let features = class
        .iter()
        .flat_map(|&c| {
            let base: Vec<f32> = (0..dim)
                .map(|p| ((((c as usize + 1) * (p + 3)) % 7) as f64 * 0.3 + rnd() * 2.0) as f32)
                .collect();
            base
        })
        .collect();
    Data {
        features,
        dim,
        class,
    }
}

struct Task {
    rows: Vec<u32>,
    labels: Vec<f64>,
    weights: Option<Vec<f64>>,
}

/// One-vs-one pairs and one-vs-rest models over several "splits" (row subsets).
fn tasks(d: &Data, classes: u32, weighted: bool) -> Vec<Task> {
    let mut out = Vec::new();
    // 4 splits × 10 models + 1: more than the 32 models of one chunk per parallel work
    // item, so a chunk's models are also spread over work items.
    for split in [3usize, 5, 7, 9] {
        let keep = |r: usize| (r * 2654435761) % 10 < split;
        for a in 0..classes {
            // a vs all, then a vs each b > a.
            let mut others: Vec<Option<u32>> = vec![None];
            others.extend((a + 1..classes).map(Some));
            for b in others {
                let rows: Vec<u32> = (0..d.class.len())
                    .filter(|&r| keep(r) && (d.class[r] == a || b.is_none_or(|b| d.class[r] == b)))
                    .map(|r| r as u32)
                    .collect();
                let labels: Vec<f64> = rows
                    .iter()
                    .map(|&r| (d.class[r as usize] == a) as u8 as f64)
                    .collect();
                let weights = weighted.then(|| {
                    labels
                        .iter()
                        .map(|&y| if y > 0.5 { 2.5 } else { 0.75 })
                        .collect()
                });
                out.push(Task {
                    rows,
                    labels,
                    weights,
                });
            }
        }
    }
    // A model without rows keeps its initial weights.
    out.push(Task {
        rows: vec![],
        labels: vec![],
        weights: weighted.then(Vec::new),
    });
    out
}

fn map(d: &Data, t: &Task, intercept: bool, scale: bool) -> FeatureMap {
    FeatureMap {
        dim: d.dim,
        intercept,
        scaling: scale.then(|| Scaling::fit(&d.features, d.dim, &t.rows)),
    }
}

fn alone(d: &Data, t: &Task, params: &SgdParams, map: FeatureMap) -> Trained {
    let src = InMemorySource::new(
        params.loss,
        &d.features,
        d.dim,
        &t.rows,
        &t.labels,
        t.weights.as_deref(),
    );
    train(&src, params.clone(), map, None).unwrap()
}

fn check(label: &str, d: &Data, ts: &[Task], params: &SgdParams, intercept: bool, scale: bool) {
    let models: Vec<BatchModel> = ts
        .iter()
        .map(|t| BatchModel {
            rows: &t.rows,
            labels: &t.labels,
            weights: t.weights.as_deref(),
        })
        .collect();
    let maps: Vec<FeatureMap> = ts.iter().map(|t| map(d, t, intercept, scale)).collect();
    let reference: Vec<Trained> = ts
        .iter()
        .zip(&maps)
        .map(|(t, m)| alone(d, t, params, m.clone()))
        .collect();
    assert!(
        reference.iter().any(|r| r.updates > 3),
        "{label}: the models train"
    );
    for simd in Simd::available() {
        let batch =
            train_many_with(simd, &d.features, d.dim, &models, params, maps.clone()).unwrap();
        for (k, (b, r)) in batch.iter().zip(&reference).enumerate() {
            let bits = |w: &[f64]| w.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&b.weights),
                bits(&r.weights),
                "{label} {simd:?} model {k}: weights"
            );
            assert_eq!(
                bits(&b.loss_history),
                bits(&r.loss_history),
                "{label} {simd:?} model {k}: losses"
            );
            assert_eq!(
                (b.updates, b.converged),
                (r.updates, r.converged),
                "{label} {simd:?} model {k}"
            );
        }
    }
}

#[test]
fn sweep_equals_models_trained_one_by_one() {
    // 700 rows = 3 chunks, one partial; 37 features: partial SIMD tiles and a tail.
    let classes = 4;
    for grouped in [true, false] {
        let d = data(700, 37, classes, grouped);
        let base = SgdParams {
            iterations: 25,
            ..SgdParams::default()
        };
        check("svm", &d, &tasks(&d, classes, false), &base, false, false);
        let logistic = SgdParams {
            loss: LossKind::Logistic,
            step_size: 0.5,
            ..base.clone()
        };
        check(
            "logistic+intercept+weights",
            &d,
            &tasks(&d, classes, true),
            &logistic,
            true,
            false,
        );
        let sampled = SgdParams {
            mini_batch_fraction: 0.6,
            updater: UpdaterKind::L1,
            ..base.clone()
        };
        check(
            "svm+scaled+sampled+L1",
            &d,
            &tasks(&d, classes, false),
            &sampled,
            true,
            true,
        );
    }
}

#[test]
fn one_model_over_every_row_equals_it_trained_alone() {
    // One model (of every row, or of a split): each chunk is read by one group of models,
    // whose coefficients and gradients are added block by block after its margins (the
    // several-group chunks above add them after all margins). 700 rows: blocks of 32
    // rows and a partial chunk.
    let d = data(700, 37, 2, false);
    let every = |keep: &dyn Fn(usize) -> bool| {
        let rows: Vec<u32> = (0..700u32).filter(|&r| keep(r as usize)).collect();
        let labels = rows.iter().map(|&r| d.class[r as usize] as f64).collect();
        Task {
            rows,
            labels,
            weights: None,
        }
    };
    let all = [every(&|_| true)];
    let split = [every(&|r| (r * 2654435761) % 10 < 7)];
    let base = SgdParams {
        iterations: 25,
        ..SgdParams::default()
    };
    check("one model", &d, &all, &base, false, false);
    let sampled = SgdParams {
        mini_batch_fraction: 0.6,
        loss: LossKind::Logistic,
        step_size: 0.5,
        ..base.clone()
    };
    check(
        "one model, split, sampled",
        &d,
        &split,
        &sampled,
        true,
        true,
    );
}

#[test]
fn early_convergence_drops_a_model_from_later_passes() {
    // A loose tolerance: models converge at different iterations and leave the batch.
    let d = data(300, 8, 2, true);
    let params = SgdParams {
        iterations: 60,
        convergence_tol: 0.05,
        step_size: 0.1,
        ..SgdParams::default()
    };
    let ts = tasks(&d, 2, false);
    check("convergence", &d, &ts, &params, true, false);
    let models: Vec<BatchModel> = ts
        .iter()
        .map(|t| BatchModel {
            rows: &t.rows,
            labels: &t.labels,
            weights: None,
        })
        .collect();
    let maps = ts.iter().map(|t| map(&d, t, true, false)).collect();
    let out = train_many_with(Simd::Generic, &d.features, d.dim, &models, &params, maps).unwrap();
    let updates: std::collections::BTreeSet<u32> = out.iter().map(|t| t.updates).collect();
    assert!(
        out.iter().any(|t| t.converged) && updates.len() > 1,
        "{updates:?}"
    );
}
