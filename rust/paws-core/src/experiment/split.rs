//! Seeded, stratified train/test splits: one per model, reproducible from the base
//! seed and the model's own name (its classes and split), so a model gets the same
//! rows whatever else runs beside it and in whatever order.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// Dataset rows used for training, ascending.
    pub train: Vec<u32>,
    /// The other rows, ascending.
    pub test: Vec<u32>,
}

/// A 64-bit FNV-1a hash: stable across Rust versions and platforms (std's hasher is
/// not), so that seeds written in a results table reproduce the same rows later.
pub fn stable_hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0)) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// The seed of one model's split.
pub fn model_seed(base: u64, class1: &str, class2: &str, split: f64) -> u64 {
    base ^ stable_hash(&[class1, class2, &format!("{split:.6}")])
}

/// Splits every stratum (a breed's rows) on its own: `round(fraction·n)` rows of each
/// go to training. Stratifying by breed keeps a one-against-all model's negatives
/// representative of every breed, and a pair's two classes in their proportions.
pub fn stratified(strata: &[&[u32]], fraction: f64, seed: u64) -> Split {
    let mut split = Split {
        train: Vec::new(),
        test: Vec::new(),
    };
    for (k, rows) in strata.iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(k as u64));
        let mut shuffled = rows.to_vec();
        shuffled.sort_unstable();
        shuffled.shuffle(&mut rng);
        let n_train = ((fraction * rows.len() as f64).round() as usize).min(rows.len());
        split.train.extend_from_slice(&shuffled[..n_train]);
        split.test.extend_from_slice(&shuffled[n_train..]);
    }
    split.train.sort_unstable();
    split.test.sort_unstable();
    split
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_stratum_is_split_in_proportion_and_deterministically() {
        let a: Vec<u32> = (0..200).collect();
        let b: Vec<u32> = (200..260).collect();
        let s = stratified(&[&a, &b], 0.3, 7);
        assert_eq!(s.train.iter().filter(|&&r| r < 200).count(), 60);
        assert_eq!(s.train.iter().filter(|&&r| r >= 200).count(), 18);
        assert_eq!(s.train.len() + s.test.len(), 260);
        assert_eq!(s, stratified(&[&a, &b], 0.3, 7));
        assert_ne!(s, stratified(&[&a, &b], 0.3, 8));
        // Disjoint and complete.
        let mut all: Vec<u32> = s.train.iter().chain(&s.test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..260).collect::<Vec<_>>());
    }

    #[test]
    fn the_seed_depends_on_the_model_only() {
        assert_eq!(model_seed(1, "A", "B", 0.3), model_seed(1, "A", "B", 0.3));
        assert_ne!(model_seed(1, "A", "B", 0.3), model_seed(1, "A", "B", 0.4));
        assert_ne!(model_seed(1, "A", "B", 0.3), model_seed(1, "B", "A", 0.3));
        // FNV-1a of "" then NUL is fixed forever.
        assert_eq!(stable_hash(&[""]), 0xaf63_bd4c_8601_b7df);
    }
}
