//! Top-k accuracy and the breed confusion matrix of scored rows.

use serde::{Deserialize, Serialize};

/// The breeds in descending order of margin (ties: the lower index first).
pub fn ranking(margins: &[f64]) -> Vec<usize> {
    let mut ix: Vec<usize> = (0..margins.len()).collect();
    ix.sort_by(|&a, &b| margins[b].total_cmp(&margins[a]).then(a.cmp(&b)));
    ix
}

/// Rows whose true breed is among the `k` highest margins, and the rows counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TopK {
    pub top1: u64,
    pub top3: u64,
    pub rows: u64,
}

impl TopK {
    pub fn add(&mut self, margins: &[f64], label: u32) {
        let rank = ranking(margins)
            .iter()
            .position(|&c| c == label as usize)
            .unwrap_or(usize::MAX);
        self.top1 += (rank < 1) as u64;
        self.top3 += (rank < 3) as u64;
        self.rows += 1;
    }

    pub fn top1_accuracy(&self) -> f64 {
        self.top1 as f64 / self.rows.max(1) as f64
    }

    pub fn top3_accuracy(&self) -> f64 {
        self.top3 as f64 / self.rows.max(1) as f64
    }
}

/// Counts of (true breed, predicted breed), both in the model's breed order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    pub breeds: Vec<String>,
    /// `counts[actual][predicted]`.
    pub counts: Vec<Vec<u64>>,
}

impl ConfusionMatrix {
    pub fn new(breeds: Vec<String>) -> Self {
        let n = breeds.len();
        ConfusionMatrix {
            breeds,
            counts: vec![vec![0; n]; n],
        }
    }

    pub fn add(&mut self, margins: &[f64], label: u32) {
        self.counts[label as usize][ranking(margins)[0]] += 1;
    }

    /// CSV: a header `actual\predicted,<breed>,…`, then one row per true breed.
    pub fn to_csv(&self) -> String {
        let mut s = String::from("actual\\predicted");
        for b in &self.breeds {
            s.push(',');
            s.push_str(b);
        }
        s.push('\n');
        for (b, row) in self.breeds.iter().zip(&self.counts) {
            s.push_str(b);
            for c in row {
                s.push_str(&format!(",{c}"));
            }
            s.push('\n');
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_and_confusion() {
        let mut t = TopK::default();
        let mut m = ConfusionMatrix::new(vec!["a".into(), "b".into(), "c".into(), "d".into()]);
        let rows = [
            ([4.0, 3.0, 2.0, 1.0], 0),
            ([4.0, 3.0, 2.0, 1.0], 2),
            ([4.0, 3.0, 2.0, 1.0], 3),
        ];
        for (margins, y) in rows {
            t.add(&margins, y);
            m.add(&margins, y);
        }
        assert_eq!((t.top1, t.top3, t.rows), (1, 2, 3));
        assert_eq!(m.counts[2][0], 1);
        assert_eq!(m.to_csv().lines().nth(1).unwrap(), "a,1,0,0,0");
        assert!(m.to_csv().starts_with("actual\\predicted,a,b,c,d\n"));
    }
}
