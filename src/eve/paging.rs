//! `page` and `max_results`, parsed as leniently as Eve does (eve-wire.md §1.2): never a 400.

/// Amili's documented page size limit (Eve's own default limit is 50).
pub const PAGINATION_LIMIT: u32 = 100;
pub const PAGINATION_DEFAULT: u32 = 25;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paging {
    pub page: u32,
    pub max_results: u32,
}

impl Default for Paging {
    fn default() -> Self {
        Paging {
            page: 1,
            max_results: PAGINATION_DEFAULT,
        }
    }
}

impl Paging {
    /// `max_results` is `int(float(v))`: unparsable, zero or negative gives the default, more
    /// than the limit is clamped. `page` is `abs(int(v))` with 0 meaning 1 and anything that
    /// is not an integer meaning 1.
    pub fn parse(page: Option<&str>, max_results: Option<&str>) -> Paging {
        let max_results = max_results
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|f| f.is_finite())
            .map(|f| f.trunc())
            .filter(|f| *f >= 1.0)
            .map(|f| f.min(PAGINATION_LIMIT as f64) as u32)
            .unwrap_or(PAGINATION_DEFAULT);
        let page = page
            .and_then(|v| v.trim().parse::<i64>().ok())
            .map(|p| p.unsigned_abs().clamp(1, u32::MAX as u64) as u32)
            .unwrap_or(1);
        Paging { page, max_results }
    }

    pub fn offset(&self) -> u64 {
        (self.page as u64 - 1) * self.max_results as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(page: Option<&str>, max: Option<&str>) -> (u32, u32) {
        let r = Paging::parse(page, max);
        (r.page, r.max_results)
    }

    #[test]
    fn max_results_is_lenient_and_clamped() {
        assert_eq!(p(None, None), (1, 25));
        assert_eq!(p(None, Some("50")), (1, 50));
        assert_eq!(p(None, Some("7.9")), (1, 7));
        assert_eq!(p(None, Some(" 10 ")), (1, 10));
        assert_eq!(p(None, Some("1e1")), (1, 10));
        assert_eq!(p(None, Some("0")), (1, 25));
        assert_eq!(p(None, Some("-5")), (1, 25));
        assert_eq!(p(None, Some("abc")), (1, 25));
        assert_eq!(p(None, Some("inf")), (1, 25));
        assert_eq!(p(None, Some("nan")), (1, 25));
        assert_eq!(p(None, Some("101")), (1, 100));
        assert_eq!(p(None, Some("100000000000000000000")), (1, 100));
    }

    #[test]
    fn page_is_absolute_and_at_least_one() {
        assert_eq!(p(Some("2"), None), (2, 25));
        assert_eq!(p(Some("-2"), None), (2, 25));
        assert_eq!(p(Some("0"), None), (1, 25));
        assert_eq!(p(Some("2.5"), None), (1, 25));
        assert_eq!(p(Some("abc"), None), (1, 25));
        assert_eq!(Paging::parse(Some("3"), Some("10")).offset(), 20);
    }
}
