//! The float64 compute ceiling of this machine: multiplies then adds (never fused, as
//! paws' kernels compute them) on registers only, on every thread at once.
//!
//! A pass of the batched kernel cannot beat it: each (row, feature, model) costs at
//! least a multiply and an add for the margin, whatever the tiling. Dividing a sweep's
//! margin work by this peak gives a floor for its training time that no float64 kernel
//! reaches (conversions, gradient terms and memory come on top).

use std::time::Instant;

/// Independent accumulators per thread: enough to hide the add's latency.
const CHAINS: usize = 12;

/// GFLOP/s of `s += x·y` (a multiply and an add per lane) on every rayon thread, and the
/// name of the vector width used: the best of `reps` runs.
pub fn float64_peak(reps: usize) -> (f64, &'static str) {
    let (lanes, name, kernel) = best_kernel();
    let iters: u64 = 20_000_000;
    let threads = rayon::current_num_threads();
    let mut best = f64::MAX;
    for _ in 0..reps {
        let t = Instant::now();
        let sums = rayon::broadcast(|_| kernel(iters));
        std::hint::black_box(sums);
        best = best.min(t.elapsed().as_secs_f64());
    }
    let flops = 2.0 * (CHAINS * lanes) as f64 * iters as f64 * threads as f64;
    (flops / best / 1e9, name)
}

type Kernel = fn(u64) -> f64;

fn best_kernel() -> (usize, &'static str, Kernel) {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            return (8, "avx512", |n| unsafe { x86::peak512(n) });
        }
        if is_x86_feature_detected!("avx2") {
            return (4, "avx2", |n| unsafe { x86::peak256(n) });
        }
    }
    (1, "scalar", generic)
}

/// The loop for any CPU: one f64 per chain (no vector width assumed).
fn generic(iters: u64) -> f64 {
    let xs = std::hint::black_box([1.000_000_1f64; CHAINS]);
    let y = std::hint::black_box(0.999_999_9f64);
    let mut s = [0f64; CHAINS];
    for _ in 0..iters {
        // The operands are read again each time (black_box): the multiply cannot be
        // hoisted out of the loop.
        let x = std::hint::black_box(&xs);
        for i in 0..CHAINS {
            s[i] += x[i] * y;
        }
    }
    s.iter().sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::CHAINS;
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f")]
    pub unsafe fn peak512(iters: u64) -> f64 {
        let xs = [1.000_000_1f64; CHAINS * 8];
        let y = _mm512_set1_pd(0.999_999_9);
        let mut s = [_mm512_setzero_pd(); CHAINS];
        for _ in 0..iters {
            for (i, si) in s.iter_mut().enumerate() {
                let x = _mm512_loadu_pd(xs.as_ptr().add(8 * i));
                *si = _mm512_add_pd(*si, _mm512_mul_pd(x, y));
            }
            // The compiler must assume `xs` changed: the multiplies stay in the loop.
            std::arch::asm!("/* {0} */", in(reg) xs.as_ptr(), options(nostack));
        }
        let mut t = _mm512_setzero_pd();
        for si in s {
            t = _mm512_add_pd(t, si);
        }
        _mm512_reduce_add_pd(t)
    }

    #[target_feature(enable = "avx2")]
    pub unsafe fn peak256(iters: u64) -> f64 {
        let xs = [1.000_000_1f64; CHAINS * 4];
        let y = _mm256_set1_pd(0.999_999_9);
        let mut s = [_mm256_setzero_pd(); CHAINS];
        for _ in 0..iters {
            for (i, si) in s.iter_mut().enumerate() {
                let x = _mm256_loadu_pd(xs.as_ptr().add(4 * i));
                *si = _mm256_add_pd(*si, _mm256_mul_pd(x, y));
            }
            std::arch::asm!("/* {0} */", in(reg) xs.as_ptr(), options(nostack));
        }
        let mut out = [0f64; 4];
        let mut t = _mm256_setzero_pd();
        for si in s {
            t = _mm256_add_pd(t, si);
        }
        _mm256_storeu_pd(out.as_mut_ptr(), t);
        out.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chain_adds_its_products() {
        // 12 chains × 1e3 steps of 1.0000001 × 0.9999999 (≈ 1 - 1e-14).
        let per_lane = 1_000.0 * 1.000_000_1 * 0.999_999_9;
        let (lanes, _, kernel) = best_kernel();
        let total = kernel(1_000);
        let want = per_lane * (CHAINS * lanes) as f64;
        assert!((total - want).abs() < 1e-6 * want, "{total} vs {want}");
        assert!((generic(1_000) - per_lane * CHAINS as f64).abs() < 1e-6 * per_lane);
    }
}
