//! What each synthetic LA is calibrated to: its real population and its published figures.
//!
//! Every target comes from the embedded reference tables (`data/reference`), looked up for the
//! LA and year; a suppressed or missing LA figure falls back to the nearest year the LA
//! published, then to its region, then to England, so that every LA gets plausible targets.
//! The targets actually used are written beside the generated returns (`calibration.csv`) so a
//! test can compare what the engine computes with what the generator aimed at.

use crate::ingest::reference::ReferenceIndex;

/// Targets for one LA and collection year. Counts are per year (flows) or at 31 March
/// (stocks); shares are fractions in 0–1.
#[derive(Debug, Clone, PartialEq)]
pub struct Targets {
    pub la_code: String,
    pub year: i32,
    pub population: f64,
    pub referrals: f64,
    pub rereferral_share: f64,
    pub nfa_share: f64,
    pub cin_at31: f64,
    pub assessments_45wd_share: f64,
    pub s47: f64,
    pub icpc: f64,
    pub icpc_15wd_share: f64,
    pub cpp_starts: f64,
    pub cpp_at31: f64,
    pub cpp_subsequent_share: f64,
    pub cpp_reviewed_share: f64,
    pub cpp_ceased_2y_share: f64,
    pub cla_at31: f64,
    pub cla_starts: f64,
    pub cla_3plus_share: f64,
    pub cla_missing_share: f64,
    pub cla_away_share: f64,
    pub cla_distance_share: f64,
    pub health_check_share: f64,
    pub dental_check_share: f64,
    pub sdq_mean: f64,
    pub adopted_share_of_ceased: f64,
    pub sgo_share_of_ceased: f64,
    pub eet_17_18_share: f64,
    pub eet_19_21_share: f64,
    pub suitable_17_18_share: f64,
    pub suitable_19_21_share: f64,
    pub not_in_touch_19_21_share: f64,
    pub he_19_21_share: f64,
}

/// Where a target value came from, for the calibration table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    La,
    LaOtherYear,
    Region,
    England,
    Default,
}

struct Finder<'a> {
    index: &'a ReferenceIndex,
    la: &'a str,
    region: String,
    year: i32,
}

impl Finder<'_> {
    /// A published value by the fallback chain: the LA this year, the LA's nearest year, the
    /// region, England.
    fn find(&self, measure: &str) -> Option<(f64, Origin)> {
        let get = |code: &str, year: i32| {
            self.index
                .published(measure, code, year)
                .and_then(|p| p.value)
        };
        if let Some(v) = get(self.la, self.year) {
            return Some((v, Origin::La));
        }
        for d in 1..=10 {
            for y in [self.year - d, self.year + d] {
                if let Some(v) = get(self.la, y) {
                    return Some((v, Origin::LaOtherYear));
                }
            }
        }
        for d in 0..=10 {
            for y in [self.year - d, self.year + d] {
                if let Some(v) = get(&self.region, y) {
                    return Some((v, Origin::Region));
                }
                if let Some(v) = get("E92000001", y) {
                    return Some((v, Origin::England));
                }
            }
        }
        None
    }

    fn share(&self, measure: &str, default: f64) -> f64 {
        self.find(measure)
            .map(|(v, _)| (v / 100.0).clamp(0.0, 1.0))
            .unwrap_or(default)
    }

    fn count(
        &self,
        measure: &str,
        rate_measure: Option<&str>,
        population: f64,
        default_rate: f64,
    ) -> f64 {
        if let Some((v, Origin::La | Origin::LaOtherYear)) = self.find(measure) {
            return v;
        }
        let rate = rate_measure
            .and_then(|m| self.find(m))
            .map(|(v, _)| v)
            .unwrap_or(default_rate);
        rate * population / 10_000.0
    }

    fn rate_count(&self, rate_measure: &str, population: f64, default_rate: f64) -> f64 {
        self.find(rate_measure)
            .map(|(v, _)| v)
            .unwrap_or(default_rate)
            * population
            / 10_000.0
    }
}

/// The targets of an LA for a collection year (from the embedded reference tables).
pub fn targets(index: &ReferenceIndex, la_code: &str, year: i32) -> Targets {
    let region = index
        .la(la_code)
        .map(|l| l.region_code.clone())
        .unwrap_or_default();
    let f = Finder {
        index,
        la: la_code,
        region,
        year,
    };
    let population = index.population(la_code, year).unwrap_or(50_000.0);
    let referrals = f.count(
        "ees_referrals",
        Some("lait:CPP_Total_Rateper10,000"),
        population,
        520.0,
    );
    let s47 = f.rate_count("lait:Section_47", population, 180.0);
    let icpc = f
        .rate_count("lait:ISCP_Conf", population, 65.0)
        .min(s47 * 0.9);
    let cpp_starts = f
        .count(
            "ees_cpp_starts",
            Some("lait:CPP_Abuse_Rate"),
            population,
            50.0,
        )
        .min(icpc * 0.97);
    Targets {
        la_code: la_code.into(),
        year,
        population,
        referrals,
        rereferral_share: f.share("ees_rereferral_pct", 0.22),
        nfa_share: f.share("ees_referral_nfa_pct", 0.07),
        cin_at31: f.count("ees_cin_at31", Some("lait:CIN"), population, 330.0),
        assessments_45wd_share: f.share("lait:Continue_Assess_Comp", 0.83),
        s47,
        icpc,
        icpc_15wd_share: f.share("lait:CP_conf_15days", 0.79),
        cpp_starts,
        cpp_at31: f.count("ees_cpp_at31", Some("lait:CPP_rate"), population, 40.0),
        cpp_subsequent_share: f.share("ees_cpp_subsequent_pct", 0.24),
        cpp_reviewed_share: f.share("lait:RevCP", 0.92),
        cpp_ceased_2y_share: f.share("lait:CPPlans2yrs", 0.04),
        cla_at31: f.count("ees_cla_at31", Some("lait:LAC"), population, 67.0),
        cla_starts: f.count("ees_cla_starts", None, population, 27.0),
        cla_3plus_share: f.share("ees_cla_3plus_placements_pct", 0.10),
        cla_missing_share: f.share("lait:Children_missing", 0.11),
        cla_away_share: f.share("lait:Children_Away", 0.02),
        cla_distance_share: f.share("lait:LACDistance", 0.13),
        health_check_share: f.share("lait:LACHealth%", 0.90),
        dental_check_share: f.share("lait:LACDental%", 0.80),
        sdq_mean: f.find("lait:Emotional_LAC").map(|(v, _)| v).unwrap_or(14.0),
        adopted_share_of_ceased: f.share("lait:%_of LAC Adopted", 0.08),
        sgo_share_of_ceased: {
            let sgo = f.find("lait:LAC_ceased_SGO").map(|(v, _)| v);
            let ceased = f.count("ees_cla_ceased", None, population, 28.0);
            sgo.map(|s| (s / ceased.max(1.0)).clamp(0.0, 0.4))
                .unwrap_or(0.12)
        },
        eet_17_18_share: f.share("ees_care_leavers_eet_17_18_pct", 0.65),
        eet_19_21_share: f.share("ees_care_leavers_eet_19_21_pct", 0.55),
        suitable_17_18_share: f.share("ees_care_leavers_suitable_17_18_pct", 0.90),
        suitable_19_21_share: f.share("ees_care_leavers_suitable_19_21_pct", 0.88),
        not_in_touch_19_21_share: f.share("lait:CareLeavers_LA_NotInTouch", 0.05),
        he_19_21_share: f.share("ees_care_leavers_he_19_21_pct", 0.06),
    }
}

impl Targets {
    /// The column names and values of this row of `calibration.csv`.
    pub fn row(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("population", self.population),
            ("referrals", self.referrals),
            ("rereferral_share", self.rereferral_share),
            ("nfa_share", self.nfa_share),
            ("cin_at31", self.cin_at31),
            ("assessments_45wd_share", self.assessments_45wd_share),
            ("s47", self.s47),
            ("icpc", self.icpc),
            ("icpc_15wd_share", self.icpc_15wd_share),
            ("cpp_starts", self.cpp_starts),
            ("cpp_at31", self.cpp_at31),
            ("cpp_subsequent_share", self.cpp_subsequent_share),
            ("cpp_reviewed_share", self.cpp_reviewed_share),
            ("cpp_ceased_2y_share", self.cpp_ceased_2y_share),
            ("cla_at31", self.cla_at31),
            ("cla_starts", self.cla_starts),
            ("cla_3plus_share", self.cla_3plus_share),
            ("cla_missing_share", self.cla_missing_share),
            ("cla_away_share", self.cla_away_share),
            ("cla_distance_share", self.cla_distance_share),
            ("health_check_share", self.health_check_share),
            ("dental_check_share", self.dental_check_share),
            ("sdq_mean", self.sdq_mean),
            ("adopted_share_of_ceased", self.adopted_share_of_ceased),
            ("sgo_share_of_ceased", self.sgo_share_of_ceased),
            ("eet_17_18_share", self.eet_17_18_share),
            ("eet_19_21_share", self.eet_19_21_share),
            ("suitable_17_18_share", self.suitable_17_18_share),
            ("suitable_19_21_share", self.suitable_19_21_share),
            ("not_in_touch_19_21_share", self.not_in_touch_19_21_share),
            ("he_19_21_share", self.he_19_21_share),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lincolnshire_2025_targets_are_its_published_figures() {
        let t = targets(ReferenceIndex::embedded(), "925", 2025);
        assert_eq!(t.population, 147_954.0);
        assert_eq!(t.referrals, 8_726.0);
        assert!((t.rereferral_share - 0.229).abs() < 1e-9);
        assert_eq!(t.cin_at31, 4_184.0);
        assert_eq!(t.cpp_at31, 456.0);
        assert_eq!(t.cla_at31, 805.0);
        assert_eq!(t.cla_starts, 342.0);
    }
}
