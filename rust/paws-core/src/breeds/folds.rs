//! Which rows train and which are held out, per breed: seeded, so a model file's seed
//! gives back its rows, and stratified, so every breed, even one of 6 photos, is both
//! trained on and evaluated.

use crate::data::error::{PawsError, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The rows of every stratum (a breed), shuffled by `seed` (the stratum's own stream,
/// so adding a breed does not move another breed's rows).
fn shuffled(strata: &[Vec<u32>], seed: u64) -> Vec<Vec<u32>> {
    strata
        .iter()
        .enumerate()
        .map(|(k, rows)| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(k as u64));
            let mut v = rows.clone();
            v.sort_unstable();
            v.shuffle(&mut rng);
            v
        })
        .collect()
}

/// Holds out `round(fraction·n)` rows of every breed of `n` rows, but at least one
/// and never all: a breed of 6 photos keeps 5 for training and 1 to evaluate. Every
/// breed needs 2 rows; the error names the first that has fewer. Returns (train,
/// held out), each ascending.
pub fn holdout(
    strata: &[Vec<u32>],
    names: &[String],
    fraction: f64,
    seed: u64,
) -> Result<(Vec<u32>, Vec<u32>)> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(PawsError::invalid(format!(
            "--holdout must be strictly between 0 and 1, got {fraction}"
        )));
    }
    check_two_rows(strata, names)?;
    let (mut train, mut held) = (Vec::new(), Vec::new());
    for rows in shuffled(strata, seed) {
        let n = rows.len();
        let k = ((fraction * n as f64).round() as usize).clamp(1, n - 1);
        held.extend_from_slice(&rows[..k]);
        train.extend_from_slice(&rows[k..]);
    }
    train.sort_unstable();
    held.sort_unstable();
    Ok((train, held))
}

/// The fold (0..k) of every row for k-fold cross-validation, stratified: each breed's
/// shuffled rows are dealt to the folds in turn, so a breed of 6 photos with k = 6 is
/// left out one photo at a time. Rows of no stratum get `None`.
pub fn k_folds(
    strata: &[Vec<u32>],
    names: &[String],
    k: usize,
    rows: usize,
    seed: u64,
) -> Result<Vec<Option<usize>>> {
    if k < 2 {
        return Err(PawsError::invalid(format!(
            "--cross-validate needs at least 2 folds, got {k}"
        )));
    }
    check_two_rows(strata, names)?;
    let mut fold = vec![None; rows];
    for s in shuffled(strata, seed) {
        for (j, r) in s.into_iter().enumerate() {
            fold[r as usize] = Some(j % k);
        }
    }
    Ok(fold)
}

/// A breed with fewer than 2 rows can be trained on or evaluated, not both.
fn check_two_rows(strata: &[Vec<u32>], names: &[String]) -> Result<()> {
    match strata.iter().position(|s| s.len() < 2) {
        Some(b) => Err(PawsError::invalid(format!(
            "breed '{}' has {} photo(s); every breed needs at least 2 (one to train on, one to evaluate)",
            names.get(b).map_or("?", String::as_str),
            strata[b].len()
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("b{i}")).collect()
    }

    #[test]
    fn every_breed_is_trained_on_and_held_out() {
        let strata = vec![
            (0..200).collect(),
            (200..206).collect(),
            (206..208).collect(),
        ];
        let (train, held) = holdout(&strata, &names(3), 0.2, 1).unwrap();
        let count = |v: &[u32], r: std::ops::Range<u32>| v.iter().filter(|x| r.contains(x)).count();
        assert_eq!(count(&held, 0..200), 40);
        assert_eq!(count(&held, 200..206), 1);
        assert_eq!(count(&held, 206..208), 1);
        assert_eq!(train.len() + held.len(), 208);
        assert_eq!(
            (train.clone(), held.clone()),
            holdout(&strata, &names(3), 0.2, 1).unwrap()
        );
        let e = holdout(&[vec![0]], &names(1), 0.2, 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("'b0' has 1 photo"), "{e}");
    }

    #[test]
    fn k_folds_deal_each_breed_round_robin() {
        let strata = vec![(0..6).collect(), (6..19).collect()];
        let f = k_folds(&strata, &names(2), 6, 20, 3).unwrap();
        assert_eq!(f[19], None);
        for k in 0..6 {
            assert_eq!(f[..6].iter().filter(|x| **x == Some(k)).count(), 1);
            let n = f[6..19].iter().filter(|x| **x == Some(k)).count();
            assert!(n == 2 || n == 3, "{n}");
        }
    }
}
