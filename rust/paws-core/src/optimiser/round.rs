//! One synchronisation round of a pass whose workers all hold every model's SGD state
//! (the Spark engine's barrier driver): each worker sends its per-model gradient sums in
//! one message, every worker merges all the messages and applies the same update.
//!
//! The sums are exact ([`GradientSum`]), so every worker merges the messages to the same
//! bits whatever their order, and the states stay identical without a coordinator.

use crate::data::error::PawsError;
use crate::data::exact_sum::{CompactError, GradientSum};

/// Format of [`encode`]; bumped when it changes, so that mixed library versions fail
/// clearly instead of merging garbage.
const VERSION: u8 = 2;

/// One worker's message: its sums by model id (a model it has no rows of is left out).
pub fn encode(sums: &[(usize, GradientSum)]) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(1 + sums.iter().map(|(_, s)| 11 * (s.dim() + 2)).sum::<usize>());
    out.push(VERSION);
    out.extend((sums.len() as u32).to_le_bytes());
    for (id, sum) in sums {
        out.extend((*id as u32).to_le_bytes());
        sum.write_compact(&mut out);
    }
    out
}

/// Calls `f(k, sum)` with the merged sum of model `ids[k]` over all `messages`, for every
/// `k` in order, after checking the messages whole (a bad message changes nothing). A
/// model that no message holds gets the empty sum; every sum must have `values` numbers
/// (a gradient sum of `dim` features has `dim + 1`).
///
/// One sum's worth of memory is reused from model to model. Merging every model's sum
/// first zeroed and filled 16 bytes a number for every
/// model each round: 131 MB a round and task for 1,998 models of 4,096 features, where
/// each task of a barrier run spent more time applying rounds than in its kernel.
pub fn for_each_merged<E: From<PawsError>>(
    values: usize,
    ids: &[usize],
    messages: &[&[u8]],
    mut f: impl FnMut(usize, &GradientSum) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    // The position in `ids` of each model id.
    let mut slot = vec![usize::MAX; ids.iter().max().map_or(0, |&m| m + 1)];
    for (k, &id) in ids.iter().enumerate() {
        if slot[id] != usize::MAX {
            return Err(PawsError::invalid(format!("model {id} is twice in the round")).into());
        }
        slot[id] = k;
    }
    // Each model's sums in the messages: the bytes of each, model by model.
    let mut parts: Vec<Vec<&[u8]>> = vec![Vec::new(); ids.len()];
    for (m, message) in messages.iter().enumerate() {
        let bad = |what: &str| PawsError::invalid(format!("round message {m}: {what}"));
        let (&version, mut input) = message.split_first().ok_or_else(|| bad("empty"))?;
        if version != VERSION {
            return Err(bad(&format!("format {version}, this library reads {VERSION}")).into());
        }
        let n = take_u32(&mut input).ok_or_else(|| bad("truncated"))?;
        for _ in 0..n {
            let id = take_u32(&mut input).ok_or_else(|| bad("truncated"))? as usize;
            let k = slot
                .get(id)
                .copied()
                .filter(|&k| k != usize::MAX)
                .ok_or_else(|| bad(&format!("holds model {id}, which is not in this round")))?;
            let len = GradientSum::compact_len(input, values).map_err(|e| match e {
                CompactError::Corrupt => bad("corrupt sum"),
                CompactError::Values(n) => {
                    bad(&format!("model {id} has {n} values, expected {values}"))
                }
            })?;
            let (sum, rest) = input.split_at(len);
            parts[k].push(sum);
            input = rest;
        }
        if !input.is_empty() {
            return Err(bad("trailing bytes").into());
        }
    }
    let mut sum = GradientSum::zeros(values);
    for (k, sums) in parts.iter().enumerate() {
        sum.clear();
        for bytes in sums {
            let mut input = *bytes;
            sum.add_compact(&mut input)
                .expect("a sum checked by compact_len adds");
        }
        f(k, &sum)?;
    }
    Ok(())
}

fn take_u32(input: &mut &[u8]) -> Option<u32> {
    let (head, rest) = input.split_first_chunk::<4>()?;
    *input = rest;
    Some(u32::from_le_bytes(*head))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::data::error::Result;

    /// The merged sums of `ids`, collected from [`for_each_merged`].
    fn merge(values: usize, ids: &[usize], messages: &[&[u8]]) -> Result<Vec<GradientSum>> {
        let mut merged = Vec::with_capacity(ids.len());
        for_each_merged::<PawsError>(values, ids, messages, |_, sum| {
            merged.push(sum.clone());
            Ok(())
        })?;
        Ok(merged)
    }

    fn sum(seed: f64, n: usize) -> GradientSum {
        let mut s = GradientSum::zeros(n);
        let g: Vec<f64> = (0..n)
            .map(|i| (seed * (i + 1) as f64).sin() * 1e3)
            .collect();
        s.add_chunk(&g, seed.abs(), 3);
        s
    }

    #[test]
    fn merging_messages_in_any_order_gives_the_sums_of_all() {
        let a = encode(&[(0, sum(0.3, 4)), (2, sum(-1.7, 4))]);
        let b = encode(&[(2, sum(2.9, 4))]);
        let c = encode(&[]);
        let one = merge(4, &[2, 0, 5], &[&a, &b, &c]).unwrap();
        let other = merge(4, &[2, 0, 5], &[&c, &b, &a]).unwrap();
        assert_eq!(one, other);
        let mut want2 = sum(-1.7, 4);
        want2.merge(&sum(2.9, 4));
        assert_eq!(one[0], want2);
        assert_eq!(one[1], sum(0.3, 4));
        assert_eq!(one[2], GradientSum::zeros(4));
    }

    #[test]
    fn a_bad_message_is_found_before_any_sum_is_used() {
        let a = encode(&[(0, sum(0.3, 4)), (1, sum(1.3, 4))]);
        let mut b = encode(&[(0, sum(0.7, 4)), (1, sum(2.3, 4))]);
        b.truncate(b.len() - 1);
        let mut seen = Vec::new();
        let e = for_each_merged::<PawsError>(4, &[0, 1], &[&a, &b], |k, _| {
            seen.push(k);
            Ok(())
        })
        .unwrap_err();
        assert!(e.to_string().contains("round message 1"), "{e}");
        assert!(
            seen.is_empty(),
            "applied {seen:?} before the bad message was found"
        );
        assert!(merge(4, &[0, 0], &[&a])
            .unwrap_err()
            .to_string()
            .contains("model 0 is twice"));
    }

    #[test]
    fn bad_messages_are_named() {
        let a = encode(&[(1, sum(0.5, 3))]);
        let err =
            |ids: &[usize], m: &[u8]| merge(3, ids, &[&encode(&[]), m]).unwrap_err().to_string();
        assert!(
            err(&[0], &a).contains("round message 1: holds model 1"),
            "{}",
            err(&[0], &a)
        );
        assert!(err(&[1], &a[..a.len() - 1]).contains("corrupt"));
        assert!(err(&[1], &[9]).contains("format 9"));
        assert!(err(&[1], &[]).contains("empty"));
        let mut long = a.clone();
        long.push(0);
        assert!(err(&[1], &long).contains("trailing"));
        assert!(merge(4, &[1], &[&a])
            .unwrap_err()
            .to_string()
            .contains("expected 4"));
    }
}
