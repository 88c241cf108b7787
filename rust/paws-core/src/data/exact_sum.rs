//! Order-independent summation of gradient partials.
//!
//! Floating-point addition is not associative, so a sum over row chunks depends on the
//! order in which the chunks arrive: on the number of threads in process, and on task
//! completion order in Spark's `treeAggregate`. Each chunk's partial sum (computed in
//! f64 in row order) is therefore converted to a 128-bit fixed-point number and the
//! partials are added as integers, which is associative and commutative. The result
//! depends only on how rows are cut into chunks, never on who adds them in what order:
//! the same weights bit for bit on 1 or 64 threads, in process or on Spark.
//!
//! Resolution is 2^-60 (about 8.7e-19) absolute and the range ±2^66 (about 7.4e19);
//! a chunk partial outside the range, or not finite, marks the sum as overflowed so the
//! caller reports it instead of returning garbage.

/// Fixed-point scale: 60 fractional bits.
const SCALE: f64 = (1u64 << 60) as f64;
/// Largest magnitude accepted for one partial: 2^66, leaving 2^61 chunks of headroom.
const LIMIT: f64 = 73_786_976_294_838_206_464.0;

/// 2^63: scaled values below it in magnitude fit an i64.
const I64_LIMIT: f64 = 9_223_372_036_854_775_808.0;

#[inline]
fn to_fixed(x: f64, overflow: &mut bool) -> i128 {
    if !x.is_finite() || x.abs() >= LIMIT {
        *overflow = true;
        return 0;
    }
    // `as` truncates toward zero: deterministic, and exact for the product since
    // scaling by a power of two only changes the exponent. Through i64 where it fits
    // (one instruction instead of a library call; the same truncation, so the same bits).
    let y = x * SCALE;
    if y.abs() < I64_LIMIT {
        y as i64 as i128
    } else {
        y as i128
    }
}

#[inline]
fn from_fixed(v: i128) -> f64 {
    // Both conversions round to nearest: through i64 where it fits (one instruction
    // instead of a library call) gives the same f64.
    let f = match i64::try_from(v) {
        Ok(small) => small as f64,
        Err(_) => v as f64,
    };
    f / SCALE
}

/// The sum of a gradient, a loss and a row count over any set of chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GradientSum {
    grad: Vec<i128>,
    loss: i128,
    count: u64,
    overflow: bool,
}

impl GradientSum {
    /// Words per fixed-point number in [`GradientSum::to_words`] (low, high).
    pub const WORDS_PER_VALUE: usize = 2;

    /// Length of [`GradientSum::to_words`] for a sum of `values` numbers: each number
    /// and the loss, then the count and the overflow flag. A gradient sum of `dim`
    /// features holds `dim + 1` numbers (`Σ c·x`, then `Σ c`).
    pub const fn word_count(values: usize) -> usize {
        Self::WORDS_PER_VALUE * (values + 1) + 2
    }

    pub fn zeros(dim: usize) -> Self {
        GradientSum {
            grad: vec![0; dim],
            loss: 0,
            count: 0,
            overflow: false,
        }
    }

    pub fn dim(&self) -> usize {
        self.grad.len()
    }

    /// Adds one chunk's f64 partials.
    pub fn add_chunk(&mut self, grad: &[f64], loss: f64, count: u64) {
        assert_eq!(grad.len(), self.grad.len(), "gradient length");
        let mut overflow = false;
        for (acc, &g) in self.grad.iter_mut().zip(grad) {
            // Late in training most chunks add nothing to most features.
            if g != 0.0 {
                *acc = acc.wrapping_add(to_fixed(g, &mut overflow));
            }
        }
        self.loss = self.loss.wrapping_add(to_fixed(loss, &mut overflow));
        self.count += count;
        self.overflow |= overflow;
    }

    /// Adds another sum (the combine step of a tree or parallel reduction).
    pub fn merge(&mut self, other: &GradientSum) {
        assert_eq!(other.grad.len(), self.grad.len(), "gradient length");
        for (a, b) in self.grad.iter_mut().zip(&other.grad) {
            *a = a.wrapping_add(*b);
        }
        self.loss = self.loss.wrapping_add(other.loss);
        self.count += other.count;
        self.overflow |= other.overflow;
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn overflowed(&self) -> bool {
        self.overflow
    }

    pub fn gradient(&self) -> Vec<f64> {
        self.grad.iter().map(|&v| from_fixed(v)).collect()
    }

    pub fn loss(&self) -> f64 {
        from_fixed(self.loss)
    }

    /// Serialises to `i64` words (two per fixed-point number: low, high; then the count
    /// and the overflow flag) for transport through JNI and Spark.
    pub fn to_words(&self) -> Vec<i64> {
        let mut out = Vec::with_capacity(Self::word_count(self.grad.len()));
        for &v in self.grad.iter().chain(std::iter::once(&self.loss)) {
            out.push(v as i64);
            out.push((v >> 64) as i64);
        }
        out.push(self.count as i64);
        out.push(self.overflow as i64);
        out
    }

    /// The inverse of [`GradientSum::to_words`]; `None` for a length that is not
    /// `2 * dim + 4`.
    pub fn from_words(words: &[i64]) -> Option<Self> {
        if words.len() < 4 || words.len() % 2 != 0 {
            return None;
        }
        let n = (words.len() - 4) / 2;
        let fixed = |i: usize| (words[2 * i] as u64 as i128) | ((words[2 * i + 1] as i128) << 64);
        Some(GradientSum {
            grad: (0..n).map(fixed).collect(),
            loss: fixed(n),
            count: words[2 * n + 2] as u64,
            overflow: words[2 * n + 3] != 0,
        })
    }
}

/// Appends `v` zigzag-encoded as LEB128 (small magnitudes take few bytes).
fn put_varint(out: &mut Vec<u8>, v: i128) {
    let mut z = ((v << 1) ^ (v >> 127)) as u128;
    loop {
        let byte = (z & 0x7f) as u8;
        z >>= 7;
        if z == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Reads one value of [`put_varint`]; `None` when the input ends early or is too long.
fn take_varint(input: &mut &[u8]) -> Option<i128> {
    let mut z: u128 = 0;
    for shift in (0..128).step_by(7) {
        let (&byte, rest) = input.split_first()?;
        *input = rest;
        z |= ((byte & 0x7f) as u128) << shift;
        if byte & 0x80 == 0 {
            return Some((z >> 1) as i128 ^ -((z & 1) as i128));
        }
    }
    None
}

impl GradientSum {
    /// Appends the sum in a compact form for transport between workers (each number
    /// zigzag LEB128: most fixed-point values take 9 to 11 bytes instead of 16).
    pub fn write_compact(&self, out: &mut Vec<u8>) {
        put_varint(out, self.grad.len() as i128);
        for &v in self.grad.iter().chain(std::iter::once(&self.loss)) {
            put_varint(out, v);
        }
        put_varint(out, self.count as i128);
        out.push(self.overflow as u8);
    }

    /// Reads one sum of [`GradientSum::write_compact`] from the front of `input`;
    /// `None` for input that is not one.
    pub fn read_compact(input: &mut &[u8]) -> Option<Self> {
        let n = usize::try_from(take_varint(input)?).ok()?;
        // Every number takes at least one byte: a length beyond the input is corrupt
        // (and must not be allocated).
        if n > input.len() {
            return None;
        }
        let grad = (0..n)
            .map(|_| take_varint(input))
            .collect::<Option<Vec<_>>>()?;
        let loss = take_varint(input)?;
        let count = u64::try_from(take_varint(input)?).ok()?;
        let (&overflow, rest) = input.split_first()?;
        *input = rest;
        if overflow > 1 {
            return None;
        }
        Some(GradientSum {
            grad,
            loss,
            count,
            overflow: overflow == 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sum_is_independent_of_order() {
        let chunks: Vec<(Vec<f64>, f64)> = (0..50)
            .map(|i| {
                let x = (i as f64 * 0.7311).sin() * 10f64.powi(i % 7 - 3);
                (vec![x, -x * 3.1, 1e-9 * x], x.abs())
            })
            .collect();
        let mut forward = GradientSum::zeros(3);
        for (g, l) in &chunks {
            forward.add_chunk(g, *l, 1);
        }
        // Reverse order, in two halves merged: a different reduction tree.
        let (mut a, mut b) = (GradientSum::zeros(3), GradientSum::zeros(3));
        for (i, (g, l)) in chunks.iter().enumerate().rev() {
            if i % 2 == 0 { &mut a } else { &mut b }.add_chunk(g, *l, 1);
        }
        b.merge(&a);
        assert_eq!(forward, b);
        assert_eq!(forward.count(), 50);
        // And close to the plain f64 sum.
        let plain: f64 = chunks.iter().map(|(g, _)| g[0]).sum();
        assert!((forward.gradient()[0] - plain).abs() < 1e-12);
    }

    #[test]
    fn words_round_trip_including_negative_values() {
        let mut s = GradientSum::zeros(2);
        s.add_chunk(&[-1.5e10, 2.25e-12], 3.5, 7);
        let back = GradientSum::from_words(&s.to_words()).unwrap();
        assert_eq!(s, back);
        assert_eq!(back.gradient()[0], -1.5e10);
        assert!(GradientSum::from_words(&[1, 2, 3]).is_none());
    }

    #[test]
    fn non_finite_or_huge_partials_are_flagged() {
        let mut s = GradientSum::zeros(1);
        s.add_chunk(&[f64::NAN], 0.0, 1);
        assert!(s.overflowed());
        let mut s = GradientSum::zeros(1);
        s.add_chunk(&[1e30], 0.0, 1);
        assert!(s.overflowed());
    }

    #[test]
    fn the_i64_shortcut_converts_back_as_the_i128_conversion_does() {
        let mut vs: Vec<i128> = vec![0, 1, -1, i64::MAX as i128, i64::MIN as i128];
        vs.extend([
            i64::MAX as i128 + 1,
            i64::MIN as i128 - 1,
            i128::MAX,
            i128::MIN,
        ]);
        vs.extend((0..3000).map(|i| ((i as i128 * 0x9E37_79B9_7F4A_7C15) >> (i % 120)) - 7));
        for v in vs {
            assert_eq!(from_fixed(v).to_bits(), (v as f64 / SCALE).to_bits(), "{v}");
        }
    }

    #[test]
    fn the_i64_shortcut_truncates_as_the_i128_conversion_does() {
        // Around 2^63 after scaling (|x| near 8), tiny and large values, both signs.
        let mut xs = vec![
            0.0,
            -0.0,
            1e-18,
            -1e-18,
            5e-19,
            7.999_999_999,
            8.0,
            8.000_000_001,
        ];
        xs.extend((0..2000).map(|i| (i as f64 * 0.377).sin() * 2f64.powi(i % 90 - 60)));
        xs.extend([LIMIT / 2.0, -LIMIT / 2.0]);
        for x in xs.iter().flat_map(|&x| [x, -x]) {
            let mut o = false;
            assert_eq!(to_fixed(x, &mut o), (x * SCALE) as i128, "{x:e}");
            assert!(!o, "{x:e}");
        }
    }

    #[test]
    fn compact_form_round_trips_extremes_and_rejects_corrupt_input() {
        let mut s = GradientSum::zeros(3);
        s.add_chunk(&[-1.5e10, 2.25e-12, 0.0], 3.5, 7);
        s.grad[2] = i128::MIN;
        s.loss = i128::MAX;
        let mut t = GradientSum::zeros(0);
        t.add_chunk(&[], f64::NAN, u64::MAX);
        let mut buf = Vec::new();
        s.write_compact(&mut buf);
        t.write_compact(&mut buf);
        let mut input = &buf[..];
        assert_eq!(GradientSum::read_compact(&mut input), Some(s));
        assert_eq!(GradientSum::read_compact(&mut input), Some(t));
        assert!(input.is_empty());
        for cut in 0..buf.len() - 1 {
            let mut short = &buf[..cut];
            let first = GradientSum::read_compact(&mut short);
            assert!(first.is_none() || GradientSum::read_compact(&mut short).is_none());
        }
        // A length no input can hold.
        assert!(GradientSum::read_compact(&mut &[0xff, 0xff, 0xff, 0x7f][..]).is_none());
    }
}
