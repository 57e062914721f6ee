use std::cmp::Ordering;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::marker::PhantomData;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering as AtomicOrdering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// The id of an entity of type `T`: twelve bytes, written as 24 hexadecimal characters.
///
/// The layout is MongoDB's ObjectId (seconds since the epoch, a per-process random value, a
/// counter), so ids created here are valid `_id`s for the existing Mongoose collections and
/// sort by creation time. The type parameter keeps a customer's id from being used where a
/// branch's is expected.
pub struct Id<T> {
    bytes: [u8; 12],
    entity: PhantomData<fn() -> T>,
}

/// Text that is not an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{shown}' is not a valid id: expected 24 hexadecimal characters")]
pub struct IdError {
    shown: String,
}

/// What [`Id::parse`] accepts, as a regular expression: 24 hexadecimal digits, either case.
/// Ids are written lower-case.
pub const ID_PATTERN: &str = "^[0-9a-fA-F]{24}$";

impl<T> Id<T> {
    /// A new id, unique within this process and, with overwhelming probability, across processes.
    pub fn generate() -> Self {
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as u32);
        let count = next_count();
        let mut bytes = [0u8; 12];
        bytes[..4].copy_from_slice(&seconds.to_be_bytes());
        bytes[4..9].copy_from_slice(&process_unique()[..5]);
        bytes[9..].copy_from_slice(&count.to_be_bytes()[1..]);
        Self::from_bytes(bytes)
    }

    /// The id with these bytes.
    pub const fn from_bytes(bytes: [u8; 12]) -> Self {
        Self {
            bytes,
            entity: PhantomData,
        }
    }

    /// The twelve bytes.
    pub const fn bytes(&self) -> [u8; 12] {
        self.bytes
    }

    /// Parses 24 hexadecimal characters (either case).
    ///
    /// # Errors
    /// [`IdError`] for anything else, quoting at most the first 32 characters of the input.
    pub fn parse(text: &str) -> Result<Self, IdError> {
        let invalid = || IdError {
            shown: text.chars().take(32).collect(),
        };
        // Checked byte by byte: `from_str_radix` alone would also take a sign (`+0`).
        if text.len() != 24 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid());
        }
        let mut bytes = [0u8; 12];
        for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| invalid())?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| invalid())?;
        }
        Ok(Self::from_bytes(bytes))
    }

    /// The same bytes as the id of another entity type, for the rare place (a master admin
    /// looked up by the subject of a token) where the type is only known from context.
    pub const fn cast<U>(self) -> Id<U> {
        Id::from_bytes(self.bytes)
    }
}

fn process_unique() -> &'static [u8; 8] {
    static VALUE: OnceLock<[u8; 8]> = OnceLock::new();
    VALUE.get_or_init(|| {
        RandomState::new()
            .hash_one(std::process::id())
            .to_be_bytes()
    })
}

fn next_count() -> u32 {
    static COUNTER: OnceLock<AtomicU32> = OnceLock::new();
    let counter = COUNTER.get_or_init(|| {
        let start = u32::from_be_bytes([0, 0, process_unique()[5], process_unique()[6]]);
        AtomicU32::new(start)
    });
    counter.fetch_add(1, AtomicOrdering::Relaxed) & 0x00FF_FFFF
}

impl<T> FromStr for Id<T> {
    type Err = IdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl<T> fmt::Display for Id<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl<T> fmt::Debug for Id<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({self})")
    }
}

// Derives would demand `T: Clone` etc.; an id is plain bytes whatever `T` is.
impl<T> Clone for Id<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Id<T> {}
impl<T> PartialEq for Id<T> {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl<T> Eq for Id<T> {}
impl<T> PartialOrd for Id<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Id<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.bytes.cmp(&other.bytes)
    }
}
impl<T> Hash for Id<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bytes.hash(state);
    }
}

impl<T> serde::Serialize for Id<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Reads the 24 hexadecimal characters [`Serialize`](serde::Serialize) writes.
impl<'de, T> serde::Deserialize<'de> for Id<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Id::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    struct Thing;

    #[test]
    fn generated_ids_are_distinct_and_increase() {
        let ids: Vec<Id<Thing>> = (0..1000).map(|_| Id::generate()).collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "ids must sort by creation order"
        );
    }

    #[test]
    fn an_id_is_read_back_from_its_text_and_accepts_upper_case() {
        let id = Id::<Thing>::generate();
        assert_eq!(Id::<Thing>::parse(&id.to_string()).unwrap(), id);
        let upper = id.to_string().to_uppercase();
        assert_eq!(Id::<Thing>::parse(&upper).unwrap(), id);
    }

    #[test]
    fn malformed_ids_are_rejected_with_a_message_that_quotes_them() {
        for bad in [
            "",
            "123",
            "zzzzzzzzzzzzzzzzzzzzzzzz",
            "507f1f77bcf86cd79943901",
            "é07f1f77bcf86cd7994390112",
        ] {
            let err = Id::<Thing>::parse(bad).unwrap_err();
            assert!(err.to_string().contains("not a valid id"), "{bad}");
        }
        let long = "x".repeat(10_000);
        assert!(Id::<Thing>::parse(&long).unwrap_err().to_string().len() < 100);
    }

    proptest! {
        #[test]
        fn parsing_any_text_never_panics(text in ".*") {
            let _ = Id::<Thing>::parse(&text);
        }

        #[test]
        fn any_twelve_bytes_round_trip_through_text(bytes in proptest::array::uniform12(any::<u8>())) {
            let id = Id::<Thing>::from_bytes(bytes);
            prop_assert_eq!(Id::<Thing>::parse(&id.to_string()).unwrap(), id);
        }
    }
}
