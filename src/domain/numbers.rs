//! Numbers as DfE and Ofsted print them: thousands separated by commas.

/// Digits grouped in threes from the right ("147954" → "147,954"); `digits` is the unsigned
/// whole part of a number.
pub fn group_thousands(digits: &str) -> String {
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    grouped
}

/// A count rounded to a whole number, thousands separated ("-1,235").
pub fn whole(x: f64) -> String {
    let n = x.round() as i64;
    let grouped = group_thousands(&n.unsigned_abs().to_string());
    if n < 0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_with_separators() {
        assert_eq!(whole(147_954.0), "147,954");
        assert_eq!(whole(999.4), "999");
        assert_eq!(whole(-1234.6), "-1,235");
        assert_eq!(group_thousands("1000000"), "1,000,000");
    }
}
