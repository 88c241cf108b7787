//! Calibrated scores: a softmax over the breeds' margins with one temperature,
//! `p_k = exp(m_k/T) / Σ_j exp(m_j/T)`, `T` fitted on held-out rows.
//!
//! Why temperature scaling rather than Platt scaling: Platt fits two parameters per
//! breed, from held-out rows of which a breed of 6 photos has one, so it would fit
//! noise; and 37 separately calibrated one-vs-rest probabilities do not sum to 1. One
//! temperature shared by all breeds is fitted from every held-out row, the scores sum
//! to 1 over the breeds, and the ranking (top-k) is the margins' own.
//!
//! `T` minimises the held-out negative log-likelihood. As a function of `β = 1/T` the
//! NLL is convex (a log-sum-exp of functions linear in β, minus a linear term), so it
//! is unimodal in `log T` too, and a golden-section search over `log T` finds the
//! minimum.

/// Softmax of `margins / t`, computed from the largest margin so it never overflows.
pub fn softmax(margins: &[f64], t: f64) -> Vec<f64> {
    let max = margins.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = margins.iter().map(|m| ((m - max) / t).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.into_iter().map(|v| v / sum).collect()
}

/// Mean negative log-likelihood of the true breeds `labels` under the softmax of each
/// row's margins at temperature `t`.
pub fn nll(margins: &[Vec<f64>], labels: &[u32], t: f64) -> f64 {
    let total: f64 = margins
        .iter()
        .zip(labels)
        .map(|(m, &y)| {
            let max = m.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let lse = max * (1.0 / t) + m.iter().map(|v| ((v - max) / t).exp()).sum::<f64>().ln();
            lse - m[y as usize] / t
        })
        .sum();
    total / margins.len().max(1) as f64
}

/// The range searched: a temperature outside it means the margins carry no usable
/// scale (all equal, or perfectly separated held-out rows that push `T` to 0).
pub const T_RANGE: (f64, f64) = (0.01, 100.0);

/// The temperature in [`T_RANGE`] that minimises [`nll`] on held-out margins and their
/// true breeds; 1 when there are no rows.
pub fn fit_temperature(margins: &[Vec<f64>], labels: &[u32]) -> f64 {
    if margins.is_empty() {
        return 1.0;
    }
    let f = |log_t: f64| nll(margins, labels, log_t.exp());
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (T_RANGE.0.ln(), T_RANGE.1.ln());
    let (mut c, mut d) = (b - g * (b - a), a + g * (b - a));
    let (mut fc, mut fd) = (f(c), f(d));
    // 60 steps shrink the interval by 0.618^60 ≈ 3e-13 of its width.
    for _ in 0..60 {
        if fc < fd {
            (b, d, fd) = (d, c, fc);
            c = b - g * (b - a);
            fc = f(c);
        } else {
            (a, c, fc) = (c, d, fd);
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    ((a + b) / 2.0).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_and_keeps_the_order() {
        for t in [0.1, 1.0, 7.0] {
            let p = softmax(&[3.0, -1.0, 6.0, 2.0], t);
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            assert!(p.iter().all(|v| v.is_finite()));
            assert!(p[2] > p[0] && p[0] > p[3] && p[3] > p[1]);
        }
        // A higher temperature flattens.
        assert!(softmax(&[2.0, 0.0], 4.0)[0] < softmax(&[2.0, 0.0], 1.0)[0]);
    }

    #[test]
    fn fitted_temperature_lowers_the_held_out_nll() {
        // Overconfident margins (scaled ×8) that are right 70 % of the time: T = 1
        // punishes the mistakes hard, the fit should flatten them (T > 1).
        let mut margins = Vec::new();
        let mut labels = Vec::new();
        for i in 0..100u32 {
            let y = i % 3;
            let top = if i % 10 < 7 { y } else { (y + 1) % 3 };
            let mut m = vec![0.0; 3];
            m[top as usize] = 8.0;
            margins.push(m);
            labels.push(y);
        }
        let t = fit_temperature(&margins, &labels);
        assert!(t > 1.5, "{t}");
        assert!(nll(&margins, &labels, t) < nll(&margins, &labels, 1.0) - 0.5);
        // The minimum: nearby temperatures are no better.
        for s in [0.9, 1.1] {
            assert!(nll(&margins, &labels, t) <= nll(&margins, &labels, t * s));
        }
        // Underconfident margins get T < 1.
        let flat: Vec<Vec<f64>> = margins
            .iter()
            .map(|m| m.iter().map(|v| v / 40.0).collect())
            .collect();
        let right: Vec<u32> = flat
            .iter()
            .map(|m| m.iter().position(|&v| v > 0.0).unwrap() as u32)
            .collect();
        assert!(fit_temperature(&flat, &right) < 1.0);
    }
}
