//! Training a breed predictor with its held-out evaluation, and cross-validation.

use super::calibrate::{fit_temperature, nll};
use super::folds::{holdout, k_folds};
use super::metrics::{ConfusionMatrix, TopK};
use super::model_file::{BreedModel, BreedTrainingInfo, BreedWeights, BREED_MODEL_FORMAT};
use super::train::{train_fits, BreedConfig};
use crate::data::dataset::Dataset;
use crate::data::error::{PawsError, Result};

/// A breed with at most this many photos is a "few-photo" breed in the
/// cross-validation's report (the 34 breeds of `oxford-pets-37-few` have 6).
pub const FEW_PHOTOS: usize = 20;

/// Scores of the held-out rows.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub top: TopK,
    pub confusion: ConfusionMatrix,
    /// Mean negative log-likelihood at the fitted temperature and at T = 1.
    pub nll: f64,
    pub nll_t1: f64,
}

/// A trained predictor and its held-out evaluation.
#[derive(Debug, Clone)]
pub struct BreedTraining {
    pub model: BreedModel,
    pub holdout: Evaluation,
}

fn margins_of(breeds: &[BreedWeights], data: &Dataset, rows: &[u32]) -> Vec<Vec<f64>> {
    rows.iter()
        .map(|&r| {
            breeds
                .iter()
                .map(|b| b.margin(data.row(r as usize)))
                .collect()
        })
        .collect()
}

/// Trains the predictor of every breed of `data`:
///
/// 1. holds out `cfg.holdout` of every breed (at least one photo each);
/// 2. trains, in the same passes over the data, the breeds' models on the other rows
///    and (the refit) on all rows;
/// 3. fits the temperature on the held-out rows' margins and evaluates top-1, top-3
///    and the confusion matrix there;
/// 4. saves the refit weights with that temperature (the refit's margins have the
///    held-out model's scale: same data but a sixth more of it, same training).
///
/// `sources` names the feature files, for the model file.
pub fn train_breeds(
    data: &Dataset,
    cfg: &BreedConfig,
    sources: Vec<String>,
    engine: &str,
) -> Result<BreedTraining> {
    let names = data.classes().to_vec();
    let strata = data.rows_by_class();
    let (train, held) = holdout(&strata, &names, cfg.holdout, cfg.seed)?;
    let all: Vec<u32> = (0..data.len() as u32).collect();
    let mut fits = train_fits(data, cfg, &[train, all])?;
    let refit = fits.pop().expect("two fits");
    let split = fits.pop().expect("two fits");

    let margins = margins_of(&split, data, &held);
    let labels: Vec<u32> = held.iter().map(|&r| data.labels()[r as usize]).collect();
    let temperature = fit_temperature(&margins, &labels);
    let mut top = TopK::default();
    let mut confusion = ConfusionMatrix::new(names);
    for (m, &y) in margins.iter().zip(&labels) {
        top.add(m, y);
        confusion.add(m, y);
    }
    let holdout = Evaluation {
        top,
        confusion,
        nll: nll(&margins, &labels, temperature),
        nll_t1: nll(&margins, &labels, 1.0),
    };
    let model = BreedModel {
        format: BREED_MODEL_FORMAT.to_string(),
        extractor: data.extractor().clone(),
        feature_dim: data.dim(),
        temperature,
        breeds: refit,
        training: BreedTrainingInfo {
            config: cfg.clone(),
            engine: engine.to_string(),
            sources,
            rows: data.len() as u64,
            holdout_rows: held.len() as u64,
            holdout_top1: holdout.top.top1_accuracy(),
            holdout_top3: holdout.top.top3_accuracy(),
            holdout_nll: holdout.nll,
            holdout_nll_t1: holdout.nll_t1,
            refit: true,
        },
    };
    Ok(BreedTraining { model, holdout })
}

/// Out-of-fold accuracy of a k-fold cross-validation.
#[derive(Debug, Clone)]
pub struct CrossValidation {
    pub folds: usize,
    /// Every row, predicted by the model of the fold that left it out.
    pub all: TopK,
    /// The rows of breeds with at most [`FEW_PHOTOS`] photos.
    pub few: TopK,
    /// Those breeds.
    pub few_breeds: Vec<String>,
    /// Per breed, in the dataset's class order.
    pub per_breed: Vec<TopK>,
}

/// k-fold cross-validation, stratified per breed (see [`k_folds`]: with k = 6 a breed
/// of 6 photos is predicted one photo at a time by a model trained on its other 5).
/// The k folds' models of every breed are trained together, in one set of passes.
pub fn cross_validate(data: &Dataset, cfg: &BreedConfig, k: usize) -> Result<CrossValidation> {
    let names = data.classes().to_vec();
    let strata = data.rows_by_class();
    let fold = k_folds(&strata, &names, k, data.len(), cfg.seed)?;
    let fits: Vec<Vec<u32>> = (0..k)
        .map(|f| {
            (0..data.len() as u32)
                .filter(|&r| fold[r as usize] != Some(f))
                .collect()
        })
        .collect();
    let models = train_fits(data, cfg, &fits)?;
    let few: Vec<bool> = strata.iter().map(|s| s.len() <= FEW_PHOTOS).collect();
    let mut cv = CrossValidation {
        folds: k,
        all: TopK::default(),
        few: TopK::default(),
        few_breeds: names
            .iter()
            .zip(&few)
            .filter(|(_, &f)| f)
            .map(|(n, _)| n.clone())
            .collect(),
        per_breed: vec![TopK::default(); names.len()],
    };
    for (r, f) in fold.iter().enumerate() {
        let f = f.ok_or_else(|| PawsError::invalid(format!("row {r} is in no fold")))?;
        let y = data.labels()[r];
        let m: Vec<f64> = models[f].iter().map(|b| b.margin(data.row(r))).collect();
        cv.all.add(&m, y);
        cv.per_breed[y as usize].add(&m, y);
        if few[y as usize] {
            cv.few.add(&m, y);
        }
    }
    Ok(cv)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::dataset::Extractor;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Gaussian blobs: `per[c]` rows of breed `names[c]` around `centre(c)`, sd 1.
    fn blobs(
        names: &[&str],
        per: &[usize],
        dim: usize,
        centre: impl Fn(usize, usize) -> f32,
        seed: u64,
    ) -> Dataset {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut normal = || {
            // Box-Muller.
            let (u, v): (f64, f64) = (rng.gen_range(1e-12..1.0), rng.gen());
            ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
        };
        let (mut f, mut images, mut breeds) = (Vec::new(), Vec::new(), Vec::new());
        for (c, (&name, &n)) in names.iter().zip(per).enumerate() {
            for i in 0..n {
                f.extend((0..dim).map(|j| centre(c, j) + normal()));
                images.push(format!("{name}_{i}.jpg"));
                breeds.push(name.to_string());
            }
        }
        let ex = Extractor {
            model: "blobs".into(),
            dim,
        };
        Dataset::new(dim, f, images, breeds, ex, "blobs").unwrap()
    }

    const FIVE: [&str; 5] = ["Bengal", "Persian", "beagle", "pug", "boxer"];

    fn five(per: usize, seed: u64) -> Dataset {
        blobs(
            &FIVE,
            &[per; 5],
            10,
            |c, j| if j == c { 4.0 } else { 0.0 },
            seed,
        )
    }

    /// Top-1 of `model` on `data` (same breeds, same order).
    fn top1(model: &BreedModel, data: &Dataset) -> f64 {
        let mut t = TopK::default();
        for r in 0..data.len() {
            t.add(&model.margins(data.row(r)), data.labels()[r]);
        }
        t.top1_accuracy()
    }

    #[test]
    fn separable_blobs_are_learnt_and_scores_are_calibrated() {
        let data = five(40, 1);
        let out =
            train_breeds(&data, &BreedConfig::default(), vec!["blobs".into()], "test").unwrap();
        assert!(
            out.holdout.top.top1_accuracy() >= 0.95,
            "{:?}",
            out.holdout.top
        );
        assert_eq!(out.holdout.top.rows, 40);
        assert_eq!(
            out.holdout.confusion.counts.iter().flatten().sum::<u64>(),
            40
        );
        // Fresh rows from the same blobs.
        assert!(top1(&out.model, &five(30, 2)) >= 0.95);
        assert!(out.holdout.nll <= out.holdout.nll_t1);
        let s = out.model.scores(five(1, 3).row(0));
        assert!((s.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        let top = out.model.top(five(1, 3).row(0), 3);
        assert_eq!(top.len(), 3);
        assert!(top[0].score >= top[1].score && top[1].score >= top[2].score);
        assert_eq!(out.model.breeds[0].species, "cat");
        assert_eq!(out.model.breeds[2].species, "dog");
    }

    #[test]
    fn the_temperature_fit_beats_t_1_on_held_out_rows() {
        // Overlapping blobs, so the margins are not all certain.
        let data = blobs(
            &FIVE,
            &[60; 5],
            10,
            |c, j| if j == c { 1.2 } else { 0.0 },
            4,
        );
        let out = train_breeds(&data, &BreedConfig::default(), vec![], "test").unwrap();
        assert!(
            out.holdout.nll < out.holdout.nll_t1 - 1e-3,
            "{} vs {}",
            out.holdout.nll,
            out.holdout.nll_t1
        );
        assert!((out.model.temperature - 1.0).abs() > 0.05);
    }

    #[test]
    fn class_weights_let_a_small_breed_be_found() {
        // Two breeds of 200 photos and one of 6 between them.
        let names = ["Bengal", "beagle", "pug"];
        let centre = |c: usize, j: usize| match (c, j) {
            (0, 0) | (1, 1) => 2.5,
            (2, 2) => 2.5,
            _ => 0.0,
        };
        let data = blobs(&names, &[200, 200, 6], 6, centre, 5);
        let fresh = blobs(&names, &[0, 0, 100], 6, centre, 6);
        let small_recall = |class_weighting: bool| {
            let cfg = BreedConfig {
                class_weighting,
                ..Default::default()
            };
            let model = train_breeds(&data, &cfg, vec![], "test").unwrap().model;
            let hits = (0..fresh.len())
                .filter(|&r| super::super::metrics::ranking(&model.margins(fresh.row(r)))[0] == 2)
                .count();
            hits as f64 / fresh.len() as f64
        };
        let (unweighted, weighted) = (small_recall(false), small_recall(true));
        assert!(
            unweighted < 0.3,
            "unweighted recall of the small breed {unweighted}"
        );
        assert!(
            weighted > 0.7,
            "weighted recall of the small breed {weighted}"
        );
    }

    #[test]
    fn cross_validation_predicts_every_row_once() {
        let data = blobs(
            &FIVE,
            &[6, 6, 6, 6, 40],
            10,
            |c, j| if j == c { 4.0 } else { 0.0 },
            7,
        );
        let cv = cross_validate(&data, &BreedConfig::default(), 6).unwrap();
        assert_eq!(cv.all.rows, 64);
        assert_eq!(cv.few.rows, 24);
        assert_eq!(cv.few_breeds, ["Bengal", "Persian", "beagle", "pug"]);
        assert!(cv.few.top1_accuracy() >= 0.9, "{:?}", cv.few);
        assert!(cv.few.top3 >= cv.few.top1);
    }

    #[test]
    fn a_saved_model_loads_with_identical_predictions() {
        let data = five(20, 8);
        let model = train_breeds(&data, &BreedConfig::default(), vec!["x".into()], "test")
            .unwrap()
            .model;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.json");
        model.save(&path).unwrap();
        let back = BreedModel::load(&path).unwrap();
        assert_eq!(back, model);
        for r in 0..data.len() {
            assert_eq!(back.scores(data.row(r)), model.scores(data.row(r)));
        }
    }

    #[test]
    fn a_bad_model_file_is_refused_naming_the_field() {
        let data = five(10, 9);
        let model = train_breeds(&data, &BreedConfig::default(), vec![], "test")
            .unwrap()
            .model;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.json");
        let json = serde_json::to_value(&model).unwrap();
        let refused = |edit: &dyn Fn(&mut serde_json::Value)| {
            let mut v = json.clone();
            edit(&mut v);
            std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
            let e = BreedModel::load(&path).unwrap_err().to_string();
            assert!(e.contains("m.json"), "{e}");
            e
        };
        let e = refused(&|v| {
            v["breeds"][1]["weights"]
                .as_array_mut()
                .unwrap()
                .truncate(7)
        });
        assert!(
            e.contains("wrong feature dimension: expected 10, found 7"),
            "{e}"
        );
        let e = refused(&|v| v["feature_dim"] = 11.into());
        assert!(e.contains("feature_dim"), "{e}");
        let e = refused(&|v| {
            v.as_object_mut().unwrap().remove("temperature");
        });
        assert!(
            e.contains("temperature") && e.contains("missing field"),
            "{e}"
        );
        let e = refused(&|v| v["format"] = "paws-breed-model/2".into());
        assert!(
            e.contains("format") && e.contains("paws-breed-model/2"),
            "{e}"
        );
        let e = refused(&|v| {
            v.as_object_mut().unwrap().remove("format");
        });
        assert!(e.contains("format: missing"), "{e}");
        let e = refused(&|v| v["breeds"][0]["species"] = "dog".into());
        assert!(e.contains("breeds[0] ('Bengal').species"), "{e}");
        let e = refused(&|v| v["temperature"] = (-1.0).into());
        assert!(e.contains("temperature"), "{e}");
        std::fs::write(&path, b"{not json").unwrap();
        assert!(BreedModel::load(&path)
            .unwrap_err()
            .to_string()
            .contains("not JSON"));
        // Features of another extractor.
        let other = Extractor {
            model: "vgg16-fc2".into(),
            dim: 4096,
        };
        let e = model
            .check_extractor(&path, &other)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("'blobs' (dim 10)") && e.contains("'vgg16-fc2' (dim 4096)"),
            "{e}"
        );
    }
}
