//! Statistical disclosure control for public outputs (members' packs), as DfE and ONS practise
//! it for published children's social care statistics.
//!
//! **Primary suppression** hides a figure resting on a small number: a count (or the numerator
//! of a rate) from 1 to `below − 1`; a percentage whose numerator, denominator or complement
//! (denominator − numerator: "28 of 30" tells that 2 did not) is that small; an average over
//! that few children. Zero is shown: nobody is identified by none.
//!
//! **Secondary (complementary) suppression** hides more figures wherever the shown ones would
//! give a hidden one back by arithmetic: a breakdown and its total (total − the groups shown =
//! the hidden group), a three-year window and its years (window − two years = the third), and
//! the same figure shown twice (the DfE year and the rolling 12 months to 31 March, a count and
//! the rate on the same children). For each total-and-parts relation the rule is the classic
//! one: never exactly one hidden cell — when only one is hidden, the smallest other part is
//! hidden as well (the total only when no part is left) — applied to every relation until none
//! changes, since one complementary cell can expose another relation.
//!
//! This module knows cells and relations only; the pack decides which figures it shows and
//! how they relate (`render::content::protect`).

use crate::indicators::catalogue::Unit;

/// Whether `n` is a small number: 1 to `below − 1`.
pub fn small(n: Option<f64>, below: u32) -> bool {
    n.is_some_and(|n| n >= 1.0 && n < f64::from(below))
}

/// Primary suppression: whether a figure in `unit` with this numerator and denominator rests on
/// a small number (see the module documentation).
pub fn primary(unit: Unit, numerator: Option<f64>, denominator: Option<f64>, below: u32) -> bool {
    match unit {
        Unit::Count | Unit::RatePer10k => small(numerator, below),
        Unit::Percent => {
            small(numerator, below)
                || small(denominator, below)
                || small(denominator.zip(numerator).map(|(d, n)| d - n), below)
        }
        Unit::MeanDays | Unit::Mean => small(denominator, below),
    }
}

/// Why a cell is hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hidden {
    /// It rests on a small number.
    Primary,
    /// It would let a hidden cell be worked out.
    Secondary,
}

/// One figure as the disclosure rules see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The number the figure rests on (children or events), to pick the smallest complement.
    pub size: f64,
    pub hidden: Option<Hidden>,
}

/// How cells (indices into the cell list) give each other away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// The same figure in several places: hidden in one, hidden in all.
    Same(Vec<usize>),
    /// A total and parts that add up to it (or nearly: a child counted in two groups):
    /// never exactly one of them hidden.
    Sum { total: usize, parts: Vec<usize> },
}

/// Applies secondary suppression to `cells` (primary suppression already marked) over
/// `links`, until no relation leaves a hidden cell recoverable. Returns how many cells it hid.
///
/// The complement chosen is the smallest shown part (by `size`, parts above zero first: a
/// zero hidden beside a small number protects little, since zeros are often known; the first
/// in order on ties, so the result is deterministic); the total only when no part is shown.
pub fn protect(cells: &mut [Cell], links: &[Link]) -> usize {
    let mut added = 0;
    loop {
        let mut changed = false;
        for link in links {
            match link {
                Link::Same(members) => {
                    if members.iter().any(|&i| cells[i].hidden.is_some()) {
                        for &i in members {
                            if cells[i].hidden.is_none() {
                                cells[i].hidden = Some(Hidden::Secondary);
                                added += 1;
                                changed = true;
                            }
                        }
                    }
                }
                Link::Sum { total, parts } => {
                    let hidden = std::iter::once(total)
                        .chain(parts)
                        .filter(|&&i| cells[i].hidden.is_some())
                        .count();
                    if hidden != 1 {
                        continue;
                    }
                    let pick = parts
                        .iter()
                        .copied()
                        .filter(|&i| cells[i].hidden.is_none())
                        .min_by(|&a, &b| {
                            let key = |i: usize| (cells[i].size <= 0.0, cells[i].size);
                            let (ka, kb) = (key(a), key(b));
                            ka.0.cmp(&kb.0).then(ka.1.total_cmp(&kb.1))
                        })
                        .or((cells[*total].hidden.is_none()).then_some(*total));
                    if let Some(i) = pick {
                        cells[i].hidden = Some(Hidden::Secondary);
                        added += 1;
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            return added;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(sizes: &[f64], below: u32) -> Vec<Cell> {
        sizes
            .iter()
            .map(|&s| Cell {
                size: s,
                hidden: small(Some(s), below).then_some(Hidden::Primary),
            })
            .collect()
    }

    fn hidden(cells: &[Cell]) -> Vec<usize> {
        (0..cells.len())
            .filter(|&i| cells[i].hidden.is_some())
            .collect()
    }

    #[test]
    fn primary_rules_by_unit() {
        assert!(primary(Unit::Count, Some(4.0), None, 5));
        assert!(!primary(Unit::Count, Some(0.0), None, 5), "zero is shown");
        assert!(!primary(Unit::Count, Some(5.0), None, 5));
        assert!(primary(Unit::RatePer10k, Some(2.0), Some(147_954.0), 5));
        // 2 of 30 (7%), 0 of 3 (the denominator), 28 of 30 (2 did not).
        assert!(primary(Unit::Percent, Some(2.0), Some(30.0), 5));
        assert!(primary(Unit::Percent, Some(0.0), Some(3.0), 5));
        assert!(primary(Unit::Percent, Some(28.0), Some(30.0), 5));
        assert!(!primary(Unit::Percent, Some(0.0), Some(30.0), 5));
        assert!(
            !primary(Unit::Percent, Some(30.0), Some(30.0), 5),
            "all of 30"
        );
        assert!(primary(Unit::MeanDays, Some(900.0), Some(2.0), 5));
        assert!(!primary(Unit::Count, Some(4.0), None, 0), "no suppression");
    }

    /// Total 30 = 20 + 7 + 3: hiding the 3 alone leaves 30 − 20 − 7 = 3, so the next smallest
    /// group (7) goes too; 30 − 20 = 10 is not the hidden 3.
    #[test]
    fn one_small_group_takes_the_next_smallest_with_it() {
        let mut c = cells(&[30.0, 20.0, 7.0, 3.0], 5);
        let links = [Link::Sum {
            total: 0,
            parts: vec![1, 2, 3],
        }];
        assert_eq!(protect(&mut c, &links), 1);
        assert_eq!(hidden(&c), vec![2, 3]);
        assert_eq!(c[2].hidden, Some(Hidden::Secondary));
        // Two small groups already protect each other.
        let mut c = cells(&[30.0, 24.0, 4.0, 2.0], 5);
        assert_eq!(protect(&mut c, &links), 0);
        assert_eq!(hidden(&c), vec![2, 3]);
    }

    /// A hidden total with every part shown is their sum: a part goes too. A single part that
    /// is hidden takes the total.
    #[test]
    fn a_hidden_total_or_a_lone_part_is_protected() {
        let mut c = cells(&[30.0, 20.0, 10.0], 5);
        c[0].hidden = Some(Hidden::Primary);
        let links = [Link::Sum {
            total: 0,
            parts: vec![1, 2],
        }];
        protect(&mut c, &links);
        assert_eq!(hidden(&c), vec![0, 2]);
        let mut c = cells(&[3.0, 3.0], 5);
        c[0].hidden = None;
        protect(
            &mut c,
            &[Link::Sum {
                total: 0,
                parts: vec![1],
            }],
        );
        assert_eq!(hidden(&c), vec![0, 1]);
    }

    /// Three-year windows chain: 2025's 2 children hidden; the 2023–25 window would give it
    /// back, so 2024 (6, the smaller of 2023 and 2024) goes; then the 2022–24 window would give
    /// 2024 back, so 2022 (8, smaller than 2023's 9) goes too. The same figure elsewhere
    /// (rolling 12 months to March 2024 = 2024) follows.
    #[test]
    fn complements_cascade_through_every_relation() {
        // 0: 2022, 1: 2023, 2: 2024, 3: 2025, 4: window 2023-25, 5: window 2022-24, 6: rolling
        let mut c = cells(&[8.0, 9.0, 6.0, 2.0, 17.0, 23.0, 6.0], 5);
        let links = [
            Link::Sum {
                total: 4,
                parts: vec![1, 2, 3],
            },
            Link::Sum {
                total: 5,
                parts: vec![0, 1, 2],
            },
            Link::Same(vec![2, 6]),
        ];
        protect(&mut c, &links);
        assert_eq!(hidden(&c), vec![0, 2, 3, 6]);
    }

    #[test]
    fn zeros_are_the_last_choice_for_a_complement() {
        let mut c = cells(&[12.0, 0.0, 3.0, 9.0], 5);
        protect(
            &mut c,
            &[Link::Sum {
                total: 0,
                parts: vec![1, 2, 3],
            }],
        );
        assert_eq!(hidden(&c), vec![2, 3]);
    }
}
