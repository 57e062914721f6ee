//! What a read of a whole collection as stored found (`app check`): a report, in words every
//! backend that stores documents shares.

/// What a scan of one collection found. A report rather than an error, because a collection
/// with a few unreadable documents is still worth reading to the end: the point is to list
/// what a migration must fix, not to stop at the first problem.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScanReport {
    /// The database scanned (the role's).
    pub database: String,
    /// The collection scanned.
    pub collection: String,
    /// How many documents were read, readable or not.
    pub documents: u64,
    /// How many documents do not read as the model (a declared field of another type): the
    /// repository leaves them out of lists and fails reads of them by id.
    pub unreadable: u64,
    /// The first [`ScanReport::SAMPLES`] unreadable documents, in id order.
    pub unreadable_samples: Vec<Finding>,
    /// How many readable documents the scan's check refused: values today's rules would not
    /// accept in a request (`ops@localhost` as an email).
    pub refused: u64,
    /// The first [`ScanReport::SAMPLES`] refused documents, in id order.
    pub refused_samples: Vec<Finding>,
}

impl ScanReport {
    /// How many documents of each kind a report names, so that a report on a large collection
    /// stays readable.
    pub const SAMPLES: usize = 5;

    /// A report on `collection` in `database`, before anything is read.
    pub fn new(database: impl Into<String>, collection: impl Into<String>) -> Self {
        Self {
            database: database.into(),
            collection: collection.into(),
            documents: 0,
            unreadable: 0,
            unreadable_samples: Vec::new(),
            refused: 0,
            refused_samples: Vec::new(),
        }
    }

    /// Whether every document read.
    pub fn all_readable(&self) -> bool {
        self.unreadable == 0
    }
}

/// One document a scan reports: which, where, and why, so that it can be found and fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The document's id (an ObjectId's hexadecimal text, or the value as it is).
    pub id: String,
    /// The field at fault (`serialNumber`, `items[0].quantity`); empty when the document as a
    /// whole is at fault.
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}
