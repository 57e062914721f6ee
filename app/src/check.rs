//! `app check [--role R]`: every document of every bound collection read as this service reads
//! it, before a team moves a handler from the Node.js services.
//!
//! The service reads stored data leniently: a value today's rules refuse (`ops@localhost`)
//! reads fine, and only a declared field of another BSON type makes a document unreadable,
//! which a list then leaves out and a read by id answers with a 500. Moving a handler onto
//! data like that would hide records from callers, so `check` lists, per collection (each
//! binding of the registry `serve` builds, `EXTRA_BINDINGS` included):
//!
//! - how many documents were read;
//! - how many cannot be read, with the first few ids, fields and reasons;
//! - how many read but would fail today's validation: sent back as a create request, their
//!   values would be refused (these still work; they are reported so that nobody is surprised
//!   when an unrelated change of such a record is refused).
//!
//! It fails (exit status 1) when any document cannot be read, and shows progress on stderr
//! every [`PROGRESS_EVERY`] documents. It needs MongoDB: on the in-memory backend there is
//! nothing stored to check, and it refuses rather than pass, since a check that passes
//! because `MONGO_URI` was forgotten would be worse than none.

use std::io::{self, Write};
use std::process::ExitCode;

use ports::{Finding, IndexStatus, Role, ScanReport};
use registry::Registry;

use crate::stored_data::{self, one_line, BoundCollection, StoredDataError};

/// How often a scan reports progress on stderr, in documents.
pub const PROGRESS_EVERY: u64 = 10_000;

/// What one collection held.
#[derive(Debug, Clone)]
pub struct CollectionCheck {
    /// The model, by its plural name (`machines`).
    pub model: String,
    /// The role it is bound on.
    pub role: Role,
    /// What the scan found.
    pub report: ScanReport,
}

/// What `app check` found, collection by collection: what the exit status follows from.
#[derive(Debug, Clone, Default)]
pub struct CheckSummary {
    /// Each collection checked, in the order checked.
    pub collections: Vec<CollectionCheck>,
    /// Bindings not stored in MongoDB (repositories bound by hand), as `models@role`.
    pub skipped: Vec<String>,
    /// Bindings whose declared indexes the server refused, as `models@role`: their unique
    /// fields are not enforced by the database.
    pub refused_indexes: Vec<String>,
}

impl CheckSummary {
    /// How many documents were read, over every collection.
    pub fn documents(&self) -> u64 {
        self.collections.iter().map(|c| c.report.documents).sum()
    }

    /// How many documents cannot be read.
    pub fn unreadable(&self) -> u64 {
        self.collections.iter().map(|c| c.report.unreadable).sum()
    }

    /// How many readable documents would fail today's validation.
    pub fn would_fail(&self) -> u64 {
        self.collections.iter().map(|c| c.report.refused).sum()
    }

    /// Whether every document can be read: documents that would fail validation are
    /// reported, not failures, since the service reads and keeps them as they are.
    pub fn passed(&self) -> bool {
        self.unreadable() == 0
    }
}

/// `app check`: [`check`] on stdout, progress on stderr; exit status 1 when a document cannot
/// be read.
///
/// # Errors
/// See [`StoredDataError`].
pub async fn run(registry: &Registry, role: Option<Role>) -> Result<ExitCode, StoredDataError> {
    let summary = check(registry, role, &mut io::stdout(), &mut io::stderr()).await?;
    Ok(if summary.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Reads every document of every collection `registry` binds on `role` (every role when
/// `None`), one collection after the other, writing what each holds to `out` as soon as it is
/// read and progress to `progress`.
///
/// # Errors
/// [`StoredDataError::InMemory`] on the in-memory backend; [`StoredDataError::UnknownRole`]
/// for a role that is not configured; [`StoredDataError::Database`] when a collection cannot
/// be read to the end.
pub async fn check(
    registry: &Registry,
    role: Option<Role>,
    out: &mut (dyn Write + Send),
    progress: &mut (dyn Write + Send),
) -> Result<CheckSummary, StoredDataError> {
    let mut summary = CheckSummary::default();
    let walked = stored_data::walk("check", registry, role, out, &mut summary.skipped)?;
    for (role, collections) in &walked {
        for collection in collections {
            let (checked, indexes) = check_one(collection, *role, out, progress).await?;
            if let Some(IndexStatus::Refused(refusal)) = &indexes {
                writeln!(out, "  indexes refused: {}", one_line(&refusal.reason))?;
                summary
                    .refused_indexes
                    .push(format!("{}@{role}", checked.model));
            }
            summary.collections.push(checked);
        }
    }
    write_summary(out, &stored_data::role_names(&walked), &summary)?;
    Ok(summary)
}

/// One collection read to the end, and the status of its declared indexes.
async fn check_one(
    collection: &BoundCollection,
    role: Role,
    out: &mut (dyn Write + Send),
    progress: &mut (dyn Write + Send),
) -> Result<(CollectionCheck, Option<IndexStatus>), StoredDataError> {
    let BoundCollection { model, stored } = collection;
    let failed = StoredDataError::database(model, role);
    let label = format!("{role}/{model}");
    let report = stored
        .scan(|read| {
            if read % PROGRESS_EVERY == 0 {
                // Progress is a courtesy: a closed stderr must not stop the check.
                let _ = writeln!(progress, "{label}: {read} documents read…");
            }
        })
        .await
        .map_err(&failed)?;
    write_report(out, &label, &report)?;
    // Only where writes would create them anyway; otherwise `app indexes diff`.
    let indexes = stored.indexes();
    let indexes = match indexes.created_by_writes() {
        true => Some(indexes.ensure().await.map_err(&failed)?),
        false => indexes.status(),
    };
    let checked = CollectionCheck {
        model: model.clone(),
        role,
        report,
    };
    Ok((checked, indexes))
}

fn write_report(out: &mut dyn Write, label: &str, report: &ScanReport) -> io::Result<()> {
    writeln!(
        out,
        "{label} ({}.{}): {} read, {} cannot be read, {} would fail validation",
        report.database, report.collection, report.documents, report.unreadable, report.refused
    )?;
    write_findings(
        out,
        "cannot be read",
        report.unreadable,
        &report.unreadable_samples,
    )?;
    write_findings(
        out,
        "would fail validation",
        report.refused,
        &report.refused_samples,
    )
}

fn write_findings(
    out: &mut dyn Write,
    what: &str,
    count: u64,
    samples: &[Finding],
) -> io::Result<()> {
    for finding in samples {
        let field = match finding.field.as_str() {
            "" => "(document)",
            field => field,
        };
        writeln!(
            out,
            "  {what}: {} {field}: {}",
            finding.id,
            one_line(&finding.reason)
        )?;
    }
    let shown = samples.len() as u64;
    if count > shown {
        writeln!(out, "  {what}: {} more not shown", count - shown)?;
    }
    Ok(())
}

fn write_summary(out: &mut dyn Write, roles: &str, summary: &CheckSummary) -> io::Result<()> {
    writeln!(
        out,
        "checked {} collections on {}: {} documents read, {} cannot be read, {} would fail \
         validation",
        summary.collections.len(),
        roles,
        summary.documents(),
        summary.unreadable(),
        summary.would_fail()
    )?;
    if !summary.refused_indexes.is_empty() {
        writeln!(
            out,
            "indexes refused on {}: unique fields there are checked by reading, not enforced by \
             the database; remove the duplicates or the conflicting index, then restart",
            summary.refused_indexes.join(", ")
        )?;
    }
    if !summary.passed() {
        let unreadable = summary.unreadable();
        let (documents, them) = match unreadable {
            1 => ("document", "it"),
            _ => ("documents", "them"),
        };
        writeln!(
            out,
            "FAILED: {unreadable} {documents} cannot be read; this service leaves {them} out of \
             lists and answers reads of {them} by id with a 500: fix {them} before moving a \
             handler"
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::config::{Cli, Command};

    #[test]
    fn check_takes_an_optional_role_that_must_be_a_role_name() {
        let parse = |args: &[&str]| Cli::try_parse_from(args).map(|cli| cli.command);
        assert_eq!(
            parse(&["app", "check"]).unwrap(),
            Some(Command::Check { role: None })
        );
        assert_eq!(
            parse(&["app", "check", "--role", "masteradmin"]).unwrap(),
            Some(Command::Check {
                role: Some(Role::MASTERADMIN)
            })
        );
        assert!(parse(&["app", "check", "--role", "Main!"]).is_err());
    }
}
