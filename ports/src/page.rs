use domain::{Problem, ValidationError};

/// Which slice of a list to read: at most [`Page::MAX_LIMIT`] entities after skipping `skip`.
/// Lists are ordered by id, which is creation order, so pages are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    limit: u32,
    skip: u64,
}

impl Page {
    /// The page size when none is asked for.
    pub const DEFAULT_LIMIT: u32 = 20;
    /// The largest page size; a larger request is refused, naming it.
    pub const MAX_LIMIT: u32 = 100;
    /// The most entities a page may skip, the largest skip every backend accepts.
    pub const MAX_SKIP: u64 = i64::MAX as u64;

    /// A page of `limit` entities (default 20, capped at 100) after `skip` (default 0).
    ///
    /// # Errors
    /// `limit` is zero or above [`Self::MAX_LIMIT`], or `skip` is above [`Self::MAX_SKIP`].
    pub fn new(limit: Option<u64>, skip: Option<u64>) -> Result<Self, ValidationError> {
        let limit = match limit {
            None => Self::DEFAULT_LIMIT,
            Some(0) => return Err(ValidationError::new("limit", Problem::Below { min: 1.0 })),
            Some(n) => u32::try_from(n)
                .ok()
                .filter(|n| *n <= Self::MAX_LIMIT)
                .ok_or_else(|| {
                    let max = f64::from(Self::MAX_LIMIT);
                    ValidationError::new("limit", Problem::Above { max })
                })?,
        };
        let skip = skip.unwrap_or(0);
        if skip > Self::MAX_SKIP {
            let max = Self::MAX_SKIP as f64;
            return Err(ValidationError::new("skip", Problem::Above { max }));
        }
        Ok(Self { limit, skip })
    }

    /// The first page of the default size.
    pub fn first() -> Self {
        Self {
            limit: Self::DEFAULT_LIMIT,
            skip: 0,
        }
    }

    /// How many entities at most.
    pub fn limit(self) -> u32 {
        self.limit
    }

    /// How many entities to pass over first.
    pub fn skip(self) -> u64 {
        self.skip
    }
}

impl Default for Page {
    fn default() -> Self {
        Self::first()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_defaults_to_twenty_and_above_one_hundred_is_refused() {
        assert_eq!(Page::new(None, None).unwrap().limit(), 20);
        assert_eq!(Page::new(Some(100), None).unwrap().limit(), 100);
        for too_many in [101, u64::MAX] {
            let refused = Page::new(Some(too_many), None).unwrap_err();
            assert_eq!(refused.to_string(), "limit: must be at most 100");
        }
        assert_eq!(
            Page::new(Some(7), Some(3)).unwrap(),
            Page { limit: 7, skip: 3 }
        );
    }

    #[test]
    fn a_zero_limit_or_an_unrepresentable_skip_is_rejected() {
        assert_eq!(Page::new(Some(0), None).unwrap_err().field(), "limit");
        assert_eq!(Page::new(None, Some(u64::MAX)).unwrap_err().field(), "skip");
    }
}
