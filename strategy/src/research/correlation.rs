//! Correlation and hit-rate statistics over paired samples (offline; allocates).

/// Pearson correlation of `x` and `y` (equal lengths); `None` with fewer than 3 pairs or when
/// either side has no variance.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    if n < 3 {
        return None;
    }
    let nf = n as f64;
    let mx = x.iter().take(n).sum::<f64>() / nf;
    let my = y.iter().take(n).sum::<f64>() / nf;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y).take(n) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return None;
    }
    let r = sxy / (sxx * syy).sqrt();
    r.is_finite().then_some(r.clamp(-1.0, 1.0))
}

/// Ranks (1-based) with ties given their average rank.
pub fn ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i + 1;
        while j < idx.len() && x[idx[j]] == x[idx[i]] {
            j += 1;
        }
        // Positions i..j (0-based) share ranks i+1..=j: average (i + 1 + j) / 2.
        let avg = (i + 1 + j) as f64 / 2.0;
        for &k in &idx[i..j] {
            r[k] = avg;
        }
        i = j;
    }
    r
}

/// Spearman rank correlation (Pearson of the tie-averaged ranks).
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    pearson(&ranks(&x[..n]), &ranks(&y[..n]))
}

/// Fraction of pairs where both are non-zero and share a sign, with the count of such pairs.
pub fn hit_rate(x: &[f64], y: &[f64]) -> (Option<f64>, usize) {
    let mut hits = 0usize;
    let mut n = 0usize;
    for (a, b) in x.iter().zip(y) {
        if *a != 0.0 && *b != 0.0 {
            n += 1;
            if (*a > 0.0) == (*b > 0.0) {
                hits += 1;
            }
        }
    }
    ((n > 0).then(|| hits as f64 / n as f64), n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        let x = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(pearson(&x, &[2.0, 4.0, 6.0, 8.0]), Some(1.0));
        assert_eq!(pearson(&x, &[1.0, 1.0, 1.0, 1.0]), None);
        // Monotone but not linear: Spearman 1, Pearson below 1.
        let y = [1.0, 10.0, 100.0, 1000.0];
        assert_eq!(spearman(&x, &y), Some(1.0));
        assert!(pearson(&x, &y).is_some_and(|r| r < 0.99));
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
        // Hits: (1,1) yes, (-1,1) no, (0,5) skipped, (2,-0) skipped, (-3,-1) yes.
        let (h, n) = hit_rate(&[1.0, -1.0, 0.0, 2.0, -3.0], &[1.0, 1.0, 5.0, 0.0, -1.0]);
        assert_eq!(n, 3);
        assert_eq!(h, Some(2.0 / 3.0));
    }
}
