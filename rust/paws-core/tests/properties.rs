//! Property tests (proptest) of the promises the engines build on, on generated shapes:
//!
//! - exact sums are the same bits whatever the order and grouping of the partials (the
//!   thread count in process, the task order of Spark's treeAggregate);
//! - the batched kernels equal the one-model kernel bit for bit, on every SIMD path this
//!   CPU has (the generic one always among them);
//! - splits and held-out sets are stratified, disjoint, complete and stable;
//! - a breed model saved and loaded scores every row as before;
//! - a whole sweep trained together equals its models trained alone, bit for bit, for
//!   generated shapes, selections, labels, weights, both losses, intercept, scaling and
//!   sampling, on every SIMD path;
//! - an experiment's saved model, loaded again, predicts every row as before.
//!
//! `PROPTEST_CASES` sets the cases per property (default 256, proptest's).

use paws_core::access::source::InMemorySource;
use paws_core::breeds::folds::holdout;
use paws_core::breeds::model_file::{BreedModel, BreedTrainingInfo, BreedWeights};
use paws_core::breeds::{BreedConfig, BREED_MODEL_FORMAT};
use paws_core::data::dataset::{species_of, Extractor};
use paws_core::data::exact_sum::GradientSum;
use paws_core::experiment::saved_model::{SavedModel, TrainingInfo, MODEL_FORMAT};
use paws_core::experiment::split::stratified;
use paws_core::kernels::batch_kernel::{margins_selected, Simd};
use paws_core::kernels::gradient::{dot, LossKind};
use paws_core::model::linear::LinearModel;
use paws_core::optimiser::batch::{train_many_with, BatchModel};
use paws_core::optimiser::sgd::{train, SgdParams};
use paws_core::optimiser::standardize::{FeatureMap, Scaling};
use paws_core::optimiser::updater::UpdaterKind;
use proptest::prelude::*;

/// A chunk partial: a gradient of `dim` values, a loss and a row count. Values span
/// many magnitudes (as gradients do), zeros included (skipped by `add_chunk`).
fn partial(dim: usize) -> impl Strategy<Value = (Vec<f64>, f64, u64)> {
    let value = prop_oneof![Just(0.0), -1e-12..1e-12f64, -1.0..1.0f64, -1e9..1e9f64,];
    (prop::collection::vec(value, dim), 0.0..1e6f64, 0u64..300)
}

fn sum_in_order(dim: usize, parts: &[(Vec<f64>, f64, u64)]) -> GradientSum {
    let mut s = GradientSum::zeros(dim);
    for (g, l, c) in parts {
        s.add_chunk(g, *l, *c);
    }
    s
}

proptest! {
    #[test]
    fn exact_sums_ignore_order_and_grouping(
        (dim, parts, order, cuts) in (1usize..12).prop_flat_map(|dim| {
            prop::collection::vec(partial(dim), 1..40).prop_flat_map(move |parts| {
                let n = parts.len();
                let order: Vec<usize> = (0..n).collect();
                (
                    Just(dim),
                    Just(parts),
                    Just(order).prop_shuffle(),
                    prop::collection::vec(0..n, 0..6),
                )
            })
        })
    ) {
        let reference = sum_in_order(dim, &parts);
        // The same partials in another order, cut into groups summed apart and merged
        // (as tasks of a tree reduction), the groups merged from the last to the first.
        let permuted: Vec<_> = order.iter().map(|&i| parts[i].clone()).collect();
        let mut bounds = cuts;
        bounds.push(0);
        bounds.push(permuted.len());
        bounds.sort_unstable();
        bounds.dedup();
        let mut total = GradientSum::zeros(dim);
        for w in bounds.windows(2).rev() {
            total.merge(&sum_in_order(dim, &permuted[w[0]..w[1]]));
        }
        prop_assert_eq!(total.to_words(), reference.to_words());
        prop_assert_eq!(GradientSum::from_words(&reference.to_words()), Some(reference));
    }

    #[test]
    fn batched_margins_equal_the_one_model_dot_on_every_simd_path(
        (rows, dim, x, v, picks) in (1usize..40, 1usize..70, 1usize..10).prop_flat_map(|(rows, dim, models)| (
            Just(rows),
            Just(dim),
            prop::collection::vec(-4.0f32..4.0, rows * dim),
            prop::collection::vec(prop::collection::vec(-3.0f64..3.0, dim), models),
            // Per model, which rows it selects.
            prop::collection::vec(prop::collection::vec(any::<bool>(), rows), models),
        ))
    ) {
        let models = v.len();
        let lists: Vec<Vec<u32>> = picks
            .iter()
            .map(|p| (0..rows as u32).filter(|&r| p[r as usize]).collect())
            .collect();
        let refs: Vec<&[u32]> = lists.iter().map(Vec::as_slice).collect();
        let vs: Vec<&[f64]> = v.iter().map(Vec::as_slice).collect();
        let available = Simd::available();
        prop_assert!(available.contains(&Simd::Generic));
        for simd in available {
            let stride = models + 1;
            let mut out = vec![f64::NAN; rows * stride];
            margins_selected(simd, &x, dim, &vs, &refs, &mut out, stride);
            for (m, list) in lists.iter().enumerate() {
                for &r in list {
                    let r = r as usize;
                    let want = dot(&x[r * dim..(r + 1) * dim], &v[m]);
                    prop_assert_eq!(out[r * stride + m].to_bits(), want.to_bits(),
                        "{:?}: row {} model {}", simd, r, m);
                }
            }
        }
    }

    #[test]
    fn splits_are_stratified_disjoint_complete_and_stable(
        sizes in prop::collection::vec(0usize..60, 1..8),
        fraction in 0.0..=1.0f64,
        seed in any::<u64>(),
    ) {
        // Strata of consecutive rows, as a dataset's breeds need not be.
        let mut next = 0u32;
        let strata: Vec<Vec<u32>> = sizes
            .iter()
            .map(|&n| {
                let s: Vec<u32> = (next..next + n as u32).rev().collect();
                next += n as u32;
                s
            })
            .collect();
        let refs: Vec<&[u32]> = strata.iter().map(Vec::as_slice).collect();
        let split = stratified(&refs, fraction, seed);
        prop_assert_eq!(&split, &stratified(&refs, fraction, seed));
        prop_assert!(split.train.windows(2).all(|w| w[0] < w[1]));
        prop_assert!(split.test.windows(2).all(|w| w[0] < w[1]));
        let mut all: Vec<u32> = split.train.iter().chain(&split.test).copied().collect();
        all.sort_unstable();
        prop_assert_eq!(all, (0..next).collect::<Vec<_>>());
        for s in &strata {
            let train = s.iter().filter(|r| split.train.binary_search(r).is_ok()).count();
            prop_assert_eq!(train, ((fraction * s.len() as f64).round() as usize).min(s.len()));
        }
    }

    #[test]
    fn held_out_photos_cover_every_breed_and_never_all_of_one(
        sizes in prop::collection::vec(2usize..40, 1..10),
        fraction in 0.01..0.99f64,
        seed in any::<u64>(),
    ) {
        let mut next = 0u32;
        let strata: Vec<Vec<u32>> = sizes
            .iter()
            .map(|&n| {
                let s: Vec<u32> = (next..next + n as u32).collect();
                next += n as u32;
                s
            })
            .collect();
        let names: Vec<String> = (0..sizes.len()).map(|i| format!("breed{i}")).collect();
        let (train, held) = holdout(&strata, &names, fraction, seed).unwrap();
        prop_assert_eq!((train.clone(), held.clone()), holdout(&strata, &names, fraction, seed).unwrap());
        prop_assert_eq!(train.len() + held.len(), next as usize);
        prop_assert!(train.iter().all(|r| held.binary_search(r).is_err()));
        for s in &strata {
            let k = s.iter().filter(|r| held.binary_search(r).is_ok()).count();
            prop_assert!(k >= 1 && k < s.len(), "{} of {} held out", k, s.len());
        }
    }

    #[test]
    fn a_breed_model_saved_and_loaded_scores_every_row_as_before(
        (dim, weights, intercepts, temperature, rows) in (1usize..24, 2usize..8).prop_flat_map(|(dim, breeds)| (
            Just(dim),
            prop::collection::vec(prop::collection::vec(any_finite_f32(), dim), breeds),
            prop::collection::vec(any_finite_f32(), breeds),
            1e-3..1e3f64,
            prop::collection::vec(prop::collection::vec(-10.0f32..10.0, dim), 1..6),
        ))
    ) {
        let breeds: Vec<BreedWeights> = weights
            .into_iter()
            .zip(intercepts)
            .enumerate()
            .map(|(i, (w, b))| {
                // Capitalised names are cats, as in Oxford-IIIT Pet.
                let name = if i % 2 == 0 { format!("Cat{i}") } else { format!("dog{i}") };
                BreedWeights { species: species_of(&name).to_string(), name, intercept: b, weights: w }
            })
            .collect();
        let model = BreedModel {
            format: BREED_MODEL_FORMAT.to_string(),
            extractor: Extractor { model: "generated".into(), dim },
            feature_dim: dim,
            temperature,
            breeds,
            training: BreedTrainingInfo {
                config: BreedConfig::default(),
                engine: "proptest".into(),
                sources: vec!["generated".into()],
                rows: 10,
                holdout_rows: 2,
                holdout_top1: 0.5,
                holdout_top3: 1.0,
                holdout_nll: 0.7,
                holdout_nll_t1: 0.9,
                refit: true,
            },
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.json");
        model.save(&path).unwrap();
        let loaded = BreedModel::load(&path).unwrap();
        prop_assert_eq!(&loaded, &model);
        for x in &rows {
            let (a, b) = (model.margins(x), loaded.margins(x));
            prop_assert_eq!(a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                b.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
            prop_assert_eq!(model.top(x, 3), loaded.top(x, 3));
        }
    }
}

/// One model of a generated sweep: its rows (ascending), 0/1 labels, optional weights.
#[derive(Debug, Clone)]
struct GenModel {
    rows: Vec<u32>,
    labels: Vec<f64>,
    weights: Option<Vec<f64>>,
}

/// `models` models over `rows` rows: each selects a random subset, labels at random,
/// weighted (positive weights) or not.
fn gen_models(rows: usize, models: usize) -> impl Strategy<Value = Vec<GenModel>> {
    prop::collection::vec(
        (
            prop::collection::vec((any::<bool>(), any::<bool>(), 0.05..3.0f64), rows),
            any::<bool>(),
        )
            .prop_map(|(picks, weighted)| {
                let chosen: Vec<(u32, f64, f64)> = picks
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.0)
                    .map(|(r, p)| (r as u32, p.1 as u8 as f64, p.2))
                    .collect();
                GenModel {
                    rows: chosen.iter().map(|c| c.0).collect(),
                    labels: chosen.iter().map(|c| c.1).collect(),
                    weights: weighted.then(|| chosen.iter().map(|c| c.2).collect()),
                }
            }),
        models,
    )
}

proptest! {
    // Each case trains every model twice per SIMD path: fewer cases than the default.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(48)))]

    #[test]
    fn a_sweep_equals_its_models_trained_alone_on_every_simd_path(
        (dim, x, models) in (1usize..600, 1usize..40, 1usize..40).prop_flat_map(|(rows, dim, models)| (
            Just(dim),
            prop::collection::vec(-4.0f32..4.0, rows * dim),
            gen_models(rows, models),
        )),
        logistic in any::<bool>(),
        intercept in any::<bool>(),
        scale in any::<bool>(),
        sampled in any::<bool>(),
        iterations in 1u32..6,
    ) {
        let params = SgdParams {
            loss: if logistic { LossKind::Logistic } else { LossKind::Hinge },
            updater: UpdaterKind::L2,
            iterations,
            mini_batch_fraction: if sampled { 0.5 } else { 1.0 },
            convergence_tol: 0.0,
            ..SgdParams::default()
        };
        let maps: Vec<FeatureMap> = models
            .iter()
            .map(|m| FeatureMap {
                dim,
                intercept,
                scaling: scale.then(|| Scaling::fit(&x, dim, &m.rows)),
            })
            .collect();
        let alone: Vec<_> = models
            .iter()
            .zip(&maps)
            .map(|(m, map)| {
                let src = InMemorySource::new(params.loss, &x, dim, &m.rows, &m.labels, m.weights.as_deref());
                train(&src, params.clone(), map.clone(), None).unwrap()
            })
            .collect();
        let batch: Vec<BatchModel> = models
            .iter()
            .map(|m| BatchModel { rows: &m.rows, labels: &m.labels, weights: m.weights.as_deref() })
            .collect();
        let bits = |w: &[f64]| w.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        for simd in Simd::available() {
            let together = train_many_with(simd, &x, dim, &batch, &params, maps.clone()).unwrap();
            for (k, (t, a)) in together.iter().zip(&alone).enumerate() {
                prop_assert_eq!(bits(&t.weights), bits(&a.weights), "{:?} model {}: weights", simd, k);
                prop_assert_eq!(bits(&t.loss_history), bits(&a.loss_history), "{:?} model {}: losses", simd, k);
                prop_assert_eq!((t.updates, t.converged), (a.updates, a.converged), "{:?} model {}", simd, k);
            }
        }
    }

    #[test]
    fn an_experiment_model_saved_and_loaded_predicts_every_row_as_before(
        (dim, weights, rows) in (1usize..64).prop_flat_map(|dim| (
            Just(dim),
            prop::collection::vec(prop_oneof![-5.0..5.0f64, any::<f64>().prop_filter("finite", |v| v.is_finite())], dim),
            prop::collection::vec(prop::collection::vec(-10.0f32..10.0, dim), 1..8),
        )),
        intercept in -3.0..3.0f64,
        logistic in any::<bool>(),
        threshold in -1.0..1.0f64,
    ) {
        let kind = if logistic { LossKind::Logistic } else { LossKind::Hinge };
        let model = SavedModel {
            format: MODEL_FORMAT.to_string(),
            positive_class: "Bengal".into(),
            negative_class: "All".into(),
            negative_classes: vec!["beagle".into(), "pug".into()],
            model: LinearModel { kind, weights, intercept, threshold },
            feature_dim: dim,
            extractor: Extractor { model: "generated".into(), dim },
            training: TrainingInfo {
                sgd: SgdParams { loss: kind, ..SgdParams::default() },
                intercept: true,
                standardize: false,
                class_weighting: false,
                seed: 42,
                split: 0.5,
                nb_train: 10,
                nb_test: 10,
                test_accuracy: 0.9,
                iterations_run: 100,
                engine: "proptest".into(),
            },
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Bengal_vs_All.json");
        model.save(&path).unwrap();
        let loaded = SavedModel::load(&path).unwrap();
        prop_assert_eq!(&loaded, &model);
        for x in &rows {
            prop_assert_eq!(loaded.model.score(x).to_bits(), model.model.score(x).to_bits());
            prop_assert_eq!(loaded.model.predict(x), model.model.predict(x));
        }
    }
}

/// Any finite f32, from subnormals to the largest: a lossy number format shows here.
fn any_finite_f32() -> impl Strategy<Value = f32> {
    prop_oneof![
        -1.0f32..1.0,
        any::<f32>().prop_filter("finite", |v| v.is_finite()),
    ]
}
