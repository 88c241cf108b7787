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
        Err(_) => wide_to_f64(v),
    };
    f / SCALE
}

/// `v as f64` (round to nearest, ties to even) without the library call that the
/// compiler emits for i128 (`__floattidf`, tens of nanoseconds: most of a barrier
/// round's update for W2's 36 models, whose sums need about 70 bits). The magnitude's
/// top 64 bits are converted in hardware, with every lower bit folded into the last one
/// (a "sticky" bit: it lies below the rounding position, where it only tells whether
/// anything was cut), and the result scaled back by a power of two, exactly.
fn wide_to_f64(v: i128) -> f64 {
    let magnitude = v.unsigned_abs();
    let bits = 128 - magnitude.leading_zeros();
    if bits <= 64 {
        let f = magnitude as u64 as f64;
        return if v < 0 { -f } else { f };
    }
    let shift = bits - 64;
    let cut = magnitude & ((1u128 << shift) - 1);
    let top = (magnitude >> shift) as u64 | u64::from(cut != 0);
    let f = top as f64 * f64::from_bits((1023 + u64::from(shift)) << 52);
    if v < 0 {
        -f
    } else {
        f
    }
}

/// Adds the `grad.len() + 1` numbers of `W` bytes at the front of `bytes` (a compact
/// sum's body, then anything after it) to `grad`, then the last to `loss`. Each number
/// is read as the 16 (or 8) bytes at its position where `bytes` has them, the bytes
/// past it shifted out and the sign extended from its top byte.
fn add_numbers<const W: usize>(grad: &mut [i128], loss: &mut i128, bytes: &[u8]) {
    // Numbers of up to 8 bytes are read as an i64 (cheaper shifts), longer ones as i128.
    let read = |at: usize| -> i128 {
        if W <= 8 {
            let shift = 64 - 8 * W as u32;
            i128::from((i64::from_le_bytes(bytes_at::<8>(bytes, at, W)) << shift) >> shift)
        } else {
            let shift = 128 - 8 * W as u32;
            (i128::from_le_bytes(bytes_at::<16>(bytes, at, W)) << shift) >> shift
        }
    };
    for (i, acc) in grad.iter_mut().enumerate() {
        *acc = acc.wrapping_add(read(i * W));
    }
    *loss = loss.wrapping_add(read(grad.len() * W));
}

/// The `N` bytes at `at` of `bytes`; near its end, the `w` bytes there and zeros.
#[inline(always)]
fn bytes_at<const N: usize>(bytes: &[u8], at: usize, w: usize) -> [u8; N] {
    match bytes.get(at..at + N) {
        Some(b) => b.try_into().expect("N bytes"),
        None => {
            let mut b = [0u8; N];
            b[..w].copy_from_slice(&bytes[at..at + w]);
            b
        }
    }
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

    /// Number `j` of [`GradientSum::gradient`], without building the vector.
    #[inline]
    pub fn value(&self, j: usize) -> f64 {
        from_fixed(self.grad[j])
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

/// Bytes that hold `v` in two's complement (1 to 16).
fn width(v: i128) -> usize {
    // Bits besides the sign: those that differ from the sign bit, from the top down.
    let significant = 128 - (v ^ (v >> 127)).leading_zeros() as usize;
    significant / 8 + 1
}

/// Why [`GradientSum::add_compact`] added nothing, or not all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompactError {
    /// The bytes are not a sum of [`GradientSum::write_compact`].
    Corrupt,
    /// A well-formed sum of this many numbers, where another count was expected.
    Values(usize),
}

impl GradientSum {
    /// Appends the sum in a compact form for transport between workers: the count of
    /// gradient numbers (u32), a width `w` (the bytes that the largest number needs,
    /// 1 to 16), the numbers and then the loss, each as `w` little-endian bytes of two's
    /// complement, the row count (u64) and the overflow flag (a byte). Fixed-point sums
    /// take 9 to 11 bytes a number instead of 16; fixed widths read and write at memory
    /// speed (the LEB128 varints used before cost about 5 ms per 1.5 MB message to write
    /// and as much to read, more than the kernel's pass in a barrier round of W2).
    pub fn write_compact(&self, out: &mut Vec<u8>) {
        let numbers = || self.grad.iter().chain(std::iter::once(&self.loss));
        let w = numbers().map(|&v| width(v)).max().unwrap_or(1);
        let n = u32::try_from(self.grad.len()).expect("a gradient of over 2^32 numbers");
        out.extend(n.to_le_bytes());
        out.push(w as u8);
        // Each number is stored as all its 16 bytes and the next one starts `w` bytes
        // on, over the excess (one fixed-size store a number, not a copy of `w` bytes);
        // the 16 - w bytes past the last one are cut off.
        let mut at = out.len();
        out.resize(at + w * (self.grad.len() + 1) + 16, 0);
        for &v in numbers() {
            out[at..at + 16].copy_from_slice(&v.to_le_bytes());
            at += w;
        }
        out.truncate(at);
        out.extend(self.count.to_le_bytes());
        out.push(self.overflow as u8);
    }

    /// Reads one sum of [`GradientSum::write_compact`] from the front of `input`;
    /// `None` for input that is not one.
    pub fn read_compact(input: &mut &[u8]) -> Option<Self> {
        let n = u32::from_le_bytes(*input.first_chunk::<4>()?) as usize;
        // Every number takes at least a byte: a length beyond the input is corrupt (and
        // must not be allocated).
        if n > input.len() {
            return None;
        }
        let mut sum = GradientSum::zeros(n);
        sum.add_compact(input).ok()?;
        Some(sum)
    }

    /// The byte length of the sum of [`GradientSum::write_compact`] at the front of
    /// `input`, checked as [`GradientSum::add_compact`] checks it (so that a round's
    /// messages can be checked whole before any sum is used).
    pub fn compact_len(input: &[u8], values: usize) -> Result<usize, CompactError> {
        use CompactError::Corrupt;
        let (head, rest) = input.split_first_chunk::<5>().ok_or(Corrupt)?;
        let n = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let w = usize::from(head[4]);
        if !(1..=16).contains(&w) {
            return Err(Corrupt);
        }
        let body = n
            .checked_add(1)
            .and_then(|k| k.checked_mul(w))
            .filter(|&b| b + 9 <= rest.len())
            .ok_or(Corrupt)?;
        if n != values {
            return Err(CompactError::Values(n));
        }
        if rest[body + 8] > 1 {
            return Err(Corrupt);
        }
        Ok(5 + body + 9)
    }

    /// Back to the empty sum, keeping its memory.
    pub fn clear(&mut self) {
        self.grad.fill(0);
        self.loss = 0;
        self.count = 0;
        self.overflow = false;
    }

    /// Adds a sum of [`GradientSum::write_compact`], read from the front of `input`, to
    /// this one without building it (the merge of a barrier round). The sum is checked
    /// whole first ([`GradientSum::compact_len`]): a sum of another length
    /// (`CompactError::Values`) or a corrupt one adds nothing.
    pub fn add_compact(&mut self, input: &mut &[u8]) -> Result<(), CompactError> {
        let n = self.grad.len();
        let len = Self::compact_len(input, n)?;
        let w = usize::from(input[4]);
        let rest = &input[5..len];
        // One loop per width, so that each one's shifts are constants (a round of 1,998
        // models of 4,096 features decodes 16 million numbers a message).
        let add = match w {
            1 => add_numbers::<1>,
            2 => add_numbers::<2>,
            3 => add_numbers::<3>,
            4 => add_numbers::<4>,
            5 => add_numbers::<5>,
            6 => add_numbers::<6>,
            7 => add_numbers::<7>,
            8 => add_numbers::<8>,
            9 => add_numbers::<9>,
            10 => add_numbers::<10>,
            11 => add_numbers::<11>,
            12 => add_numbers::<12>,
            13 => add_numbers::<13>,
            14 => add_numbers::<14>,
            15 => add_numbers::<15>,
            _ => add_numbers::<16>,
        };
        add(&mut self.grad, &mut self.loss, rest);
        // compact_len checked the count's 8 bytes and the overflow flag (0 or 1).
        let tail = &rest[(n + 1) * w..];
        let count = u64::from_le_bytes(tail[..8].try_into().expect("8 bytes"));
        self.count = self.count.wrapping_add(count);
        self.overflow |= tail[8] == 1;
        *input = &input[len..];
        Ok(())
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
        // A length no input can hold, a width out of range.
        assert!(GradientSum::read_compact(&mut &[0xff, 0xff, 0xff, 0x7f, 1][..]).is_none());
        let mut bad_width = Vec::new();
        GradientSum::zeros(1).write_compact(&mut bad_width);
        bad_width[4] = 17;
        assert!(GradientSum::read_compact(&mut &bad_width[..]).is_none());
    }

    #[test]
    fn wide_values_convert_as_the_compiler_converts_them() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut cases: Vec<i128> = vec![i128::MIN, i128::MAX, i128::MIN + 1, 1 << 64, -(1 << 64)];
        for bits in 60..127 {
            let base = 1i128 << bits;
            // Just around a rounding tie (half of the last kept bit) at this magnitude.
            let half = 1i128 << (bits - 53);
            for d in [-1, 0, 1] {
                cases.extend([base + half + d, base + 3 * half + d, base - 1 + d]);
            }
        }
        for _ in 0..200_000 {
            let raw = (u128::from(next()) << 64 | u128::from(next())) as i128;
            cases.push(raw >> (next() % 64));
        }
        for v in cases.into_iter().flat_map(|v| [v, v.wrapping_neg()]) {
            assert_eq!(wide_to_f64(v).to_bits(), (v as f64).to_bits(), "{v}");
        }
    }

    #[test]
    fn widths_hold_every_magnitude_and_sign() {
        for (v, w) in [
            (0, 1),
            (127, 1),
            (128, 2),
            (-128, 1),
            (-129, 2),
            (1 << 62, 8),
        ] {
            assert_eq!(width(v), w, "{v}");
        }
        assert_eq!(width(i128::MAX), 16);
        assert_eq!(width(i128::MIN), 16);
        // Every width, both signs, at the start, middle and end of a sum, short (every
        // number read from a copy of its bytes) and long (most read in place).
        for (bits, len) in (0..127).flat_map(|b| [(b, 3), (b, 40)]) {
            let v = 1i128 << bits;
            let mut s = GradientSum::zeros(len);
            s.grad = (0..len as i128)
                .map(|i| [v, -v, v - 1, (v >> 1) - i][i as usize % 4])
                .collect();
            s.loss = -v - 1;
            s.count = bits as u64;
            let mut buf = Vec::new();
            s.write_compact(&mut buf);
            assert_eq!(
                GradientSum::read_compact(&mut &buf[..]),
                Some(s),
                "bits {bits}"
            );
        }
    }

    #[test]
    fn adding_a_compact_sum_equals_merging_it() {
        let mut a = GradientSum::zeros(4);
        a.add_chunk(&[1.5, -2.25e9, 3e-9, 0.0], 0.75, 5);
        let mut b = GradientSum::zeros(4);
        b.add_chunk(&[-7.0, 1e12, 0.0, 4.5], 2.0, 3);
        let mut buf = Vec::new();
        b.write_compact(&mut buf);
        let mut merged = a.clone();
        merged.merge(&b);
        let mut added = a.clone();
        assert_eq!(added.add_compact(&mut &buf[..]), Ok(()));
        assert_eq!(added, merged);
        let mut other = GradientSum::zeros(3);
        assert_eq!(
            other.add_compact(&mut &buf[..]),
            Err(CompactError::Values(4))
        );
        assert_eq!(other, GradientSum::zeros(3));
    }
}
