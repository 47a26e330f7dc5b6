//! The statistics of a comparison: funnel limits and confidence intervals (exact binomial and
//! Poisson via statrs, normal for means), ranks and quartile bands by LAIT's conventions, and
//! the direction of a trend judged by polarity.
//!
//! Funnel limits follow Spiegelhalter (2005, "Funnel plots for comparing institutional
//! performance"): the exact discrete quantile of the comparator's distribution at the LA's
//! denominator, interpolated so the limits are smooth in the denominator (the form PHE's
//! Fingertips and NHS funnel plots use). An LA outside its 95% limits is "significantly"
//! different; outside 99.8%, "strongly significantly" so.

use statrs::distribution::{Beta, Binomial, ContinuousCDF, DiscreteCDF, Gamma, Normal, Poisson};

use strum::{EnumString, IntoStaticStr};

use crate::indicators::catalogue::Polarity;

/// The two funnel levels: 95% (≈2 standard deviations) and 99.8% (≈3).
pub const LEVELS: [f64; 2] = [0.95, 0.998];

/// Lower and upper limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub lower: f64,
    pub upper: f64,
}

impl Limits {
    pub fn contains(&self, x: f64) -> bool {
        self.lower <= x && x <= self.upper
    }
}

/// Smallest integer r in [0, max] with cdf(r) ≥ q (binary search: cdf is non-decreasing).
fn discrete_quantile(cdf: &dyn Fn(u64) -> f64, q: f64, max: u64) -> u64 {
    let (mut lo, mut hi) = (0u64, max);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if cdf(mid) >= q {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// Spiegelhalter's interpolated quantile of a discrete distribution, as a count.
fn interpolated_quantile(cdf: &dyn Fn(u64) -> f64, q: f64, max: u64) -> f64 {
    let r = discrete_quantile(cdf, q, max);
    let at = cdf(r);
    let below = if r == 0 { 0.0 } else { cdf(r - 1) };
    if at - below <= 0.0 {
        return r as f64;
    }
    let alpha = (at - q) / (at - below);
    (r as f64 - alpha).max(0.0)
}

/// Funnel limits (as proportions 0–1) around the comparator proportion `p0` for a denominator
/// of `n` at `level` (0.95 or 0.998): exact binomial.
pub fn binomial_funnel(p0: f64, n: u64, level: f64) -> Option<Limits> {
    if n == 0 || !(0.0..=1.0).contains(&p0) {
        return None;
    }
    let dist = Binomial::new(p0, n).ok()?;
    let cdf = |r: u64| dist.cdf(r);
    let tail = (1.0 - level) / 2.0;
    Some(Limits {
        lower: interpolated_quantile(&cdf, tail, n) / n as f64,
        upper: interpolated_quantile(&cdf, 1.0 - tail, n) / n as f64,
    })
}

/// Funnel limits (as counts) around an expected count `expected`: exact Poisson. For a rate
/// per 10,000 the expected count is the comparator rate × population / 10,000.
pub fn poisson_funnel(expected: f64, level: f64) -> Option<Limits> {
    if expected <= 0.0 || !expected.is_finite() {
        return None;
    }
    let dist = Poisson::new(expected).ok()?;
    let cdf = |r: u64| dist.cdf(r);
    let tail = (1.0 - level) / 2.0;
    // Far enough into the tail for any level we use.
    let max = (expected + 20.0 * expected.sqrt() + 50.0) as u64;
    Some(Limits {
        lower: interpolated_quantile(&cdf, tail, max),
        upper: interpolated_quantile(&cdf, 1.0 - tail, max),
    })
}

/// The exact (Clopper–Pearson) interval of a proportion `k` out of `n`, as proportions.
pub fn binomial_interval(k: u64, n: u64, level: f64) -> Option<Limits> {
    if n == 0 || k > n {
        return None;
    }
    let tail = (1.0 - level) / 2.0;
    let lower = if k == 0 {
        0.0
    } else {
        Beta::new(k as f64, (n - k + 1) as f64)
            .ok()?
            .inverse_cdf(tail)
    };
    let upper = if k == n {
        1.0
    } else {
        Beta::new((k + 1) as f64, (n - k) as f64)
            .ok()?
            .inverse_cdf(1.0 - tail)
    };
    Some(Limits { lower, upper })
}

/// The exact interval of a Poisson count `k` (Garwood: chi-squared quantiles / 2, here as
/// Gamma(k, 1) and Gamma(k + 1, 1) quantiles).
pub fn poisson_interval(k: u64, level: f64) -> Option<Limits> {
    let tail = (1.0 - level) / 2.0;
    let lower = if k == 0 {
        0.0
    } else {
        Gamma::new(k as f64, 1.0).ok()?.inverse_cdf(tail)
    };
    let upper = Gamma::new((k + 1) as f64, 1.0)
        .ok()?
        .inverse_cdf(1.0 - tail);
    Some(Limits { lower, upper })
}

/// Normal limits around `centre` for a mean of `n` values with standard deviation `sd`.
pub fn normal_limits(centre: f64, sd: f64, n: f64, level: f64) -> Option<Limits> {
    if n < 2.0 || sd.is_nan() || sd <= 0.0 {
        return None;
    }
    let z = Normal::new(0.0, 1.0)
        .ok()?
        .inverse_cdf(1.0 - (1.0 - level) / 2.0);
    let half = z * sd / n.sqrt();
    Some(Limits {
        lower: centre - half,
        upper: centre + half,
    })
}

/// Whether a higher value is better, worse, or neither.
fn sign(polarity: Polarity) -> f64 {
    match polarity {
        Polarity::High => 1.0,
        Polarity::Low => -1.0,
        Polarity::Neutral => 0.0,
    }
}

/// A significance verdict against a comparator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Better,
    Worse,
    /// Outside the limits for a neutral indicator.
    Higher,
    Lower,
    WithinExpected,
}

impl Verdict {
    pub fn text(self) -> &'static str {
        match self {
            Verdict::Better => "significantly better",
            Verdict::Worse => "significantly worse",
            Verdict::Higher => "significantly higher",
            Verdict::Lower => "significantly lower",
            Verdict::WithinExpected => "within expected variation",
        }
    }
}

/// The verdict for a value against limits, by polarity.
pub fn verdict(value: f64, limits: Limits, polarity: Polarity) -> Verdict {
    let above = value > limits.upper;
    let below = value < limits.lower;
    match (above, below, polarity) {
        (false, false, _) => Verdict::WithinExpected,
        (true, _, Polarity::High) | (_, true, Polarity::Low) => Verdict::Better,
        (true, _, Polarity::Low) | (_, true, Polarity::High) => Verdict::Worse,
        (true, _, Polarity::Neutral) => Verdict::Higher,
        (_, true, Polarity::Neutral) => Verdict::Lower,
    }
}

/// Ranks by polarity, 1 = best; ties share the lower (better) rank ("1, 2, 2, 4"); neutral
/// indicators are ranked high to low. `None` values are not ranked.
pub fn ranks(values: &[Option<f64>], polarity: Polarity) -> Vec<Option<u32>> {
    let key = |v: f64| if polarity == Polarity::Low { v } else { -v };
    let mut present: Vec<f64> = values.iter().flatten().map(|&v| key(v)).collect();
    present.sort_by(f64::total_cmp);
    values
        .iter()
        .map(|v| {
            v.map(|v| {
                let k = key(v);
                present.partition_point(|&x| x < k) as u32 + 1
            })
        })
        .collect()
}

/// LAIT's quartile band from a rank among `n` LAs: A (best quarter) to D; none for neutral
/// indicators. Band boundaries are the ranks n/4, n/2, 3n/4 (rounded up), so tied LAs, which
/// share a rank, share a band.
pub fn quartile(rank: u32, n: u32, polarity: Polarity) -> Option<Quartile> {
    if polarity == Polarity::Neutral || n == 0 || rank == 0 {
        return None;
    }
    let q = |f: u32| (n * f).div_ceil(4);
    Some(if rank <= q(1) {
        Quartile::A
    } else if rank <= q(2) {
        Quartile::B
    } else if rank <= q(3) {
        Quartile::C
    } else {
        Quartile::D
    })
}

/// A quartile band, A (best quarter) to D; the comparison table's `quartile` column holds its
/// [`Quartile::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, EnumString)]
pub enum Quartile {
    A,
    B,
    C,
    D,
}

/// A RAG rating: the comparison table's `rag` column holds its [`Rag::name`], and the packs
/// read it back with [`Rag::from_name`], so the words are spelt in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum Rag {
    Green,
    Amber,
    Red,
}

crate::domain::named!(Quartile, Rag, Trend);

/// The direction of a trend: better or worse by the indicator's polarity, or (for a neutral
/// indicator) up or down; the table's `trend` column holds its [`Trend::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum Trend {
    Improving,
    Worsening,
    Stable,
    Rising,
    Falling,
}

/// RAG against a comparator by polarity: green when better or equal, amber when worse by less
/// than `tolerance` (relative, e.g. 0.1 = 10%), red when worse by more; none for neutral.
pub fn rag(value: f64, comparator: f64, polarity: Polarity, tolerance: f64) -> Option<Rag> {
    let s = sign(polarity);
    if s == 0.0 || !value.is_finite() || !comparator.is_finite() {
        return None;
    }
    let better_by = s * (value - comparator);
    Some(if better_by >= 0.0 {
        Rag::Green
    } else if comparator != 0.0 && -better_by <= tolerance * comparator.abs() {
        Rag::Amber
    } else {
        Rag::Red
    })
}

/// The direction of a series of yearly values (oldest first) judged by polarity: the
/// least-squares slope over the years, called a change when it moves the value by more than
/// `threshold` (relative to the mean) over the span. Returns (direction, slope per year).
pub fn trend(values: &[(i32, f64)], polarity: Polarity, threshold: f64) -> Option<(Trend, f64)> {
    if values.len() < 2 {
        return None;
    }
    let n = values.len() as f64;
    let mx = values.iter().map(|v| v.0 as f64).sum::<f64>() / n;
    let my = values.iter().map(|v| v.1).sum::<f64>() / n;
    let sxx: f64 = values.iter().map(|v| (v.0 as f64 - mx).powi(2)).sum();
    let sxy: f64 = values.iter().map(|v| (v.0 as f64 - mx) * (v.1 - my)).sum();
    if sxx == 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let span = (values[values.len() - 1].0 - values[0].0) as f64;
    let moved = slope * span;
    let scale = my.abs().max(f64::EPSILON);
    if moved.abs() <= threshold * scale {
        return Some((Trend::Stable, slope));
    }
    let s = sign(polarity);
    Some((
        match (s, moved > 0.0) {
            (0.0, true) => Trend::Rising,
            (0.0, false) => Trend::Falling,
            (s, up) if (s > 0.0) == up => Trend::Improving,
            _ => Trend::Worsening,
        },
        slope,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// n = 30 of N = 100 against p0 = 0.25, and a Poisson count against an expected 40.
    /// Expected values computed independently with scipy 1.x:
    /// `beta.ppf`, `binom(100, .25)`/`poisson(40)` `ppf`/`cdf` with Spiegelhalter's
    /// interpolation `r - (F(r) - q) / (F(r) - F(r-1))`, and `gamma.ppf`.
    #[test]
    fn limits_match_independent_values() {
        let cp = binomial_interval(30, 100, 0.95).unwrap();
        assert!(
            close(cp.lower, 0.212_406, 1e-5) && close(cp.upper, 0.399_815, 1e-5),
            "{cp:?}"
        );
        let cp = binomial_interval(30, 100, 0.998).unwrap();
        assert!(
            close(cp.lower, 0.170_610, 1e-5) && close(cp.upper, 0.456_556, 1e-5),
            "{cp:?}"
        );
        let f = binomial_funnel(0.25, 100, 0.95).unwrap();
        assert!(
            close(f.lower, 0.162_355, 1e-5) && close(f.upper, 0.332_323, 1e-5),
            "{f:?}"
        );
        let f = binomial_funnel(0.25, 100, 0.998).unwrap();
        assert!(
            close(f.lower, 0.119_567, 1e-5) && close(f.upper, 0.385_607, 1e-5),
            "{f:?}"
        );
        // 30% lies inside the 95% funnel around 25% at N = 100: not significant.
        assert_eq!(verdict(0.30, f, Polarity::Low), Verdict::WithinExpected);
        let p = poisson_funnel(40.0, 0.95).unwrap();
        assert!(
            close(p.lower, 27.563_813, 1e-4) && close(p.upper, 52.379_185, 1e-4),
            "{p:?}"
        );
        let p = poisson_funnel(40.0, 0.998).unwrap();
        assert!(
            close(p.lower, 21.400_028, 1e-4) && close(p.upper, 60.451_623, 1e-4),
            "{p:?}"
        );
        let g = poisson_interval(30, 0.95).unwrap();
        assert!(
            close(g.lower, 20.240_874, 1e-4) && close(g.upper, 42.826_865, 1e-4),
            "{g:?}"
        );
        let g = poisson_interval(30, 0.998).unwrap();
        assert!(
            close(g.lower, 15.869_171, 1e-4) && close(g.upper, 51.083_124, 1e-4),
            "{g:?}"
        );
    }

    #[test]
    fn verdicts_follow_polarity() {
        let l = Limits {
            lower: 10.0,
            upper: 20.0,
        };
        assert_eq!(verdict(25.0, l, Polarity::High), Verdict::Better);
        assert_eq!(verdict(25.0, l, Polarity::Low), Verdict::Worse);
        assert_eq!(verdict(5.0, l, Polarity::Low), Verdict::Better);
        assert_eq!(verdict(5.0, l, Polarity::Neutral), Verdict::Lower);
        assert_eq!(verdict(20.0, l, Polarity::High), Verdict::WithinExpected);
    }

    #[test]
    fn quartiles_and_rag() {
        // 10 LAs: boundaries at ranks 3, 5, 8.
        let bands: String = (1..=10)
            .map(|r| quartile(r, 10, Polarity::High).unwrap().name())
            .collect();
        assert_eq!(bands, "AAABBCCCDD");
        assert_eq!(quartile(1, 10, Polarity::Neutral), None);
        assert_eq!(rag(30.0, 25.0, Polarity::High, 0.1), Some(Rag::Green));
        assert_eq!(rag(23.0, 25.0, Polarity::High, 0.1), Some(Rag::Amber));
        assert_eq!(rag(22.0, 25.0, Polarity::High, 0.1), Some(Rag::Red));
        assert_eq!(rag(22.0, 25.0, Polarity::Low, 0.1), Some(Rag::Green));
        assert_eq!(rag(22.0, 25.0, Polarity::Neutral, 0.1), None);
    }

    #[test]
    fn trends_are_judged_by_polarity() {
        let up = [(2021, 20.0), (2022, 22.0), (2023, 24.0)];
        assert_eq!(
            trend(&up, Polarity::High, 0.05).unwrap().0,
            Trend::Improving
        );
        assert_eq!(trend(&up, Polarity::Low, 0.05).unwrap().0, Trend::Worsening);
        assert_eq!(
            trend(&up, Polarity::Neutral, 0.05).unwrap().0,
            Trend::Rising
        );
        let flat = [(2021, 20.0), (2022, 20.5), (2023, 20.2)];
        assert_eq!(trend(&flat, Polarity::High, 0.05).unwrap().0, Trend::Stable);
        assert!((trend(&up, Polarity::High, 0.05).unwrap().1 - 2.0).abs() < 1e-12);
    }

    #[test]
    fn ranks_share_the_lower_rank_on_ties() {
        let v = [Some(10.0), Some(20.0), Some(20.0), None, Some(5.0)];
        assert_eq!(
            ranks(&v, Polarity::High),
            vec![Some(3), Some(1), Some(1), None, Some(4)]
        );
        assert_eq!(
            ranks(&v, Polarity::Low),
            vec![Some(2), Some(3), Some(3), None, Some(1)]
        );
    }
}
