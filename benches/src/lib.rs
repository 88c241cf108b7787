//! What the paws benchmarks share: a seeded synthetic dataset shaped like Oxford-IIIT
//! Pet with VGG16 `fc2` features, the workloads W1–W3, a memory-bandwidth probe and the
//! float64 compute peak.

use paws_core::data::dataset::Extractor;
use paws_core::experiment::{ComparisonSpec, ExperimentConfig};
use paws_core::Dataset;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::time::Instant;

mod peak;
pub use peak::float64_peak;

/// The 37 breeds and their image counts in the full dataset (7,349 images; from
/// `shared/reference/oxford-pets-class-counts.csv`), in file-name order.
pub const BREEDS: [(&str, usize); 37] = [
    ("Abyssinian", 198),
    ("Bengal", 200),
    ("Birman", 200),
    ("Bombay", 184),
    ("British_Shorthair", 200),
    ("Egyptian_Mau", 190),
    ("Maine_Coon", 200),
    ("Persian", 200),
    ("Ragdoll", 200),
    ("Russian_Blue", 200),
    ("Siamese", 199),
    ("Sphynx", 200),
    ("american_bulldog", 200),
    ("american_pit_bull_terrier", 200),
    ("basset_hound", 200),
    ("beagle", 200),
    ("boxer", 199),
    ("chihuahua", 200),
    ("english_cocker_spaniel", 196),
    ("english_setter", 200),
    ("german_shorthaired", 200),
    ("great_pyrenees", 200),
    ("havanese", 200),
    ("japanese_chin", 200),
    ("keeshond", 199),
    ("leonberger", 200),
    ("miniature_pinscher", 200),
    ("newfoundland", 196),
    ("pomeranian", 200),
    ("pug", 200),
    ("saint_bernard", 200),
    ("samoyed", 200),
    ("scottish_terrier", 199),
    ("shiba_inu", 200),
    ("staffordshire_bull_terrier", 189),
    ("wheaten_terrier", 200),
    ("yorkshire_terrier", 200),
];

/// The breed of W1 and W2, as in the published runs.
pub const FOCUS: &str = "american_bulldog";
/// W2's four one-vs-one opponents.
pub const W2_VS: [&str; 4] = [
    "american_pit_bull_terrier",
    "boxer",
    "pug",
    "staffordshire_bull_terrier",
];

/// A standard normal from two uniforms (Box–Muller); the rand crate alone has no normal.
fn normal(rng: &mut ChaCha8Rng) -> f32 {
    let u1: f64 = rng.gen_range(f64::MIN_POSITIVE..1.0);
    let u2: f64 = rng.gen();
    ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
}

/// `dim`-d non-negative float32 rows with class structure, like ReLU outputs of a CNN:
/// each breed has a sparse prototype (about 30 % of features active), each row is
/// `max(0, prototype + noise)`. Rows come grouped by breed, in file-name order, as
/// `paws extract` writes a folder of `<breed>_<n>.jpg` photos.
pub fn synthetic(dim: usize, seed: u64) -> Dataset {
    synthetic_scaled(dim, seed, 1)
}

/// [`synthetic`] with `copies` times the rows of each breed (the memory benchmark's
/// 10× set: about 73,500 rows); one copy is [`synthetic`] itself.
pub fn synthetic_scaled(dim: usize, seed: u64, copies: usize) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n: usize = BREEDS.iter().map(|b| b.1).sum::<usize>() * copies;
    let mut features = Vec::with_capacity(n * dim);
    let (mut images, mut breeds) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for (breed, count) in BREEDS {
        let proto: Vec<f32> = (0..dim)
            .map(|_| {
                if rng.gen_bool(0.3) {
                    normal(&mut rng).abs() * 2.0
                } else {
                    0.0
                }
            })
            .collect();
        for i in 1..=count * copies {
            features.extend(proto.iter().map(|&p| (p + normal(&mut rng) * 0.8).max(0.0)));
            images.push(format!("{breed}_{i}.jpg"));
            breeds.push(breed.to_string());
        }
    }
    Dataset::new(
        dim,
        features,
        images,
        breeds,
        Extractor {
            model: format!("synthetic-oxford-pets-{dim}d-seed{seed}"),
            dim,
        },
        "synthetic",
    )
    .expect("a valid synthetic dataset")
}

/// The benchmark workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// One breed vs all, 9 splits.
    W1,
    /// One breed vs 4 breeds one-vs-one, 9 splits.
    W2,
    /// All 666 pairs and all 37 one-vs-rest, 9 splits.
    W3,
}

impl Workload {
    pub fn config(self) -> ExperimentConfig {
        let comparisons = match self {
            Workload::W1 => vec![ComparisonSpec::VersusAll(FOCUS.into())],
            Workload::W2 => vec![ComparisonSpec::Versus(
                FOCUS.into(),
                W2_VS.iter().map(|s| s.to_string()).collect(),
            )],
            Workload::W3 => std::iter::once(ComparisonSpec::AllPairs)
                .chain(BREEDS.iter().map(|b| ComparisonSpec::VersusAll(b.0.into())))
                .collect(),
        };
        ExperimentConfig {
            comparisons,
            ..ExperimentConfig::default()
        }
    }

    /// The `paws experiment` / `PetBreedExperiment` arguments of the workload (W1, W2).
    pub fn cli_args(self) -> Option<Vec<String>> {
        let v = |s: &[&str]| s.iter().map(|s| s.to_string()).collect();
        match self {
            Workload::W1 => Some(v(&["--class", FOCUS, "--vs", "all"])),
            Workload::W2 => Some(v(&["--class", FOCUS, "--vs", &W2_VS.join(",")])),
            Workload::W3 => None,
        }
    }
}

/// Read bandwidth of this machine in GB/s: the best of `reps` parallel sums over a
/// buffer of `bytes` (much larger than the caches), on rayon's threads.
pub fn read_bandwidth(bytes: usize, reps: usize) -> f64 {
    let words = bytes / 8;
    let buf: Vec<u64> = (0..words as u64).into_par_iter().collect();
    let mut best = f64::MAX;
    for _ in 0..reps {
        let t = Instant::now();
        let s: u64 = buf
            .par_chunks(1 << 16)
            .map(|c| c.iter().fold(0u64, |a, &b| a.wrapping_add(b)))
            .reduce(|| 0, u64::wrapping_add);
        std::hint::black_box(s);
        best = best.min(t.elapsed().as_secs_f64());
    }
    bytes as f64 / best / 1e9
}
