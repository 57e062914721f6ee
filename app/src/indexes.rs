//! `app indexes [--role R] diff | sync [--drop-extra]` (or, as deploy scripts write it,
//! `--diff` and `--sync`): the indexes of every bound collection against those its model
//! declares, as Mongoose's `diffIndexes` and `syncIndexes`.
//!
//! The service creates the declared indexes itself before a repository's first write, unless
//! `MONGO_AUTO_INDEX=false`: production turns that off so that no request ever starts an index
//! build, and an operator runs this command instead (on deploy, or after a model change).
//! Indexes are compared by keys and `unique`, never by name (see
//! [`ports::IndexDiff`]).
//!
//! - `--diff` lists, per role and collection (each binding of the registry `serve` builds,
//!   `EXTRA_BINDINGS` included), the declared indexes that are **missing**, the **extra** ones
//!   (present, not declared; `_id` aside) and the **conflicting** ones (the keys of a declared
//!   index with another `unique` option). Exit status 0 when nothing differs, 1 otherwise.
//!   Each writable role's idempotency records (`idempotencyRecords`, with the TTL index that
//!   removes old ones) are compared the same way.
//! - `--sync` creates what is missing; with `--drop-extra` it also drops the extra indexes
//!   (never `_id`). It never touches a conflicting index: that must be dropped by hand, since
//!   the declared one cannot exist next to it, and it is reported. It then reads the indexes
//!   again and prints what still differs. Exit status 0 when every declared index exists as
//!   declared (extras kept without `--drop-extra` are reported but do not fail), 1 when a
//!   conflict remains or the server refused to create or drop an index.
//!
//! Like `app check`, it needs MongoDB and refuses to run in memory.

use std::io::{self, Write};
use std::process::ExitCode;

use ports::{IndexConflict, IndexDiff, IndexSpec, IndexSync, IndexedCollection, Role};
use registry::Registry;

use crate::stored_data::{self, one_line, StoredDataError};

/// What `app indexes` is asked to do: a subcommand (`app indexes diff`, `app indexes sync
/// --drop-extra`), also reached by the flags deploy scripts already use (`--diff`, `--sync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Subcommand)]
pub enum IndexesMode {
    /// List the missing, extra and conflicting indexes; change nothing.
    #[command(long_flag = "diff")]
    Diff,
    /// Create the missing indexes; never drop one unless `--drop-extra` is given.
    #[command(long_flag = "sync")]
    Sync {
        /// Also drop the indexes the models do not declare (never `_id`).
        #[arg(long)]
        drop_extra: bool,
    },
}

/// One collection: how its indexes differed, and what a sync did.
#[derive(Debug, Clone)]
pub struct CollectionIndexes {
    /// What the collection holds: a model, by its plural name (`branches`), or the role's
    /// idempotency records (`idempotencyRecords`).
    pub model: String,
    /// The role it is bound on.
    pub role: Role,
    /// The role's database.
    pub database: String,
    /// The collection.
    pub collection: String,
    /// The difference before anything was changed.
    pub diff: IndexDiff,
    /// What `--sync` did, and the difference after it; `None` for `--diff`.
    pub sync: Option<IndexSync>,
}

impl CollectionIndexes {
    /// The difference as it stands now: after the sync if there was one.
    pub fn now(&self) -> &IndexDiff {
        self.sync.as_ref().map_or(&self.diff, |sync| &sync.after)
    }

    /// Whether this collection passes: for `--diff`, nothing differs; for `--sync`, every
    /// declared index exists as declared and nothing was refused.
    pub fn passed(&self) -> bool {
        match &self.sync {
            None => self.diff.is_clean(),
            Some(sync) => {
                sync.refused.is_empty()
                    && sync.after.missing.is_empty()
                    && sync.after.conflicting.is_empty()
            }
        }
    }
}

/// What `app indexes` found and did, collection by collection: what the exit status follows
/// from.
#[derive(Debug, Clone, Default)]
pub struct IndexesSummary {
    /// Each collection, in the order looked at.
    pub collections: Vec<CollectionIndexes>,
    /// Bindings not stored in MongoDB (repositories bound by hand), as `models@role`.
    pub skipped: Vec<String>,
}

impl IndexesSummary {
    /// How many declared indexes are missing now (after a sync, if any).
    pub fn missing(&self) -> usize {
        self.collections.iter().map(|c| c.now().missing.len()).sum()
    }

    /// How many extra indexes are present now.
    pub fn extra(&self) -> usize {
        self.collections.iter().map(|c| c.now().extra.len()).sum()
    }

    /// How many conflicting indexes are present now.
    pub fn conflicting(&self) -> usize {
        self.collections
            .iter()
            .map(|c| c.now().conflicting.len())
            .sum()
    }

    /// Whether every collection passed (see [`CollectionIndexes::passed`]): exit status 0.
    pub fn passed(&self) -> bool {
        self.collections.iter().all(CollectionIndexes::passed)
    }
}

/// `app indexes`: [`indexes`] on stdout; exit status 1 when the summary did not pass.
///
/// # Errors
/// See [`StoredDataError`].
pub async fn run(
    registry: &Registry,
    role: Option<Role>,
    mode: IndexesMode,
) -> Result<ExitCode, StoredDataError> {
    let summary = indexes(registry, role, mode, &mut io::stdout()).await?;
    Ok(if summary.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Compares (and, for [`IndexesMode::Sync`], brings in line) the indexes of every collection
/// `registry` binds on `role` (every role when `None`), one after the other, writing each
/// collection's outcome to `out` as soon as it is known.
///
/// # Errors
/// [`StoredDataError::InMemory`] on the in-memory backend; [`StoredDataError::UnknownRole`]
/// for a role that is not configured; [`StoredDataError::Database`] when a collection's
/// indexes cannot be read or the database stops answering (what was done before stays done).
pub async fn indexes(
    registry: &Registry,
    role: Option<Role>,
    mode: IndexesMode,
    out: &mut (dyn Write + Send),
) -> Result<IndexesSummary, StoredDataError> {
    let mut summary = IndexesSummary::default();
    let walked = stored_data::walk("indexes", registry, role, out, &mut summary.skipped)?;
    for (role, collections) in &walked {
        let models = collections
            .iter()
            .map(|c| (c.model.clone(), c.stored.indexes()));
        // Each writable role's idempotency records, named by their collection.
        let records = registry
            .backend()
            .idempotency_records(*role)
            .map(|records| (records.collection().to_owned(), records));
        for (name, indexed) in models.chain(records) {
            let compared = compare(indexed.as_ref(), &name, *role, mode).await?;
            write_collection(out, &compared)?;
            summary.collections.push(compared);
        }
    }
    write_summary(out, &stored_data::role_names(&walked), mode, &summary)?;
    Ok(summary)
}

/// `what`'s indexes compared with its declaration (`model` on `role`), and brought in line
/// for a sync.
async fn compare(
    what: &dyn IndexedCollection,
    model: &str,
    role: Role,
    mode: IndexesMode,
) -> Result<CollectionIndexes, StoredDataError> {
    let failed = StoredDataError::database(model, role);
    let diff = what.diff().await.map_err(&failed)?;
    let sync = match mode {
        IndexesMode::Diff => None,
        IndexesMode::Sync { drop_extra } => Some(what.sync(drop_extra).await.map_err(&failed)?),
    };
    Ok(CollectionIndexes {
        model: model.to_owned(),
        role,
        database: what.database().to_owned(),
        collection: what.collection().to_owned(),
        diff,
        sync,
    })
}

fn write_collection(out: &mut dyn Write, c: &CollectionIndexes) -> io::Result<()> {
    let label = format!("{}/{} ({}.{})", c.role, c.model, c.database, c.collection);
    match &c.sync {
        None => {
            let diff = &c.diff;
            if diff.is_clean() {
                return writeln!(out, "{label}: as declared");
            }
            writeln!(
                out,
                "{label}: {} missing, {} extra, {} conflicting",
                diff.missing.len(),
                diff.extra.len(),
                diff.conflicting.len()
            )?;
            write_diff(out, diff)
        }
        Some(sync) if c.diff.is_clean() && sync.after.is_clean() => {
            writeln!(out, "{label}: as declared, nothing to do")
        }
        Some(sync) => {
            writeln!(
                out,
                "{label}: {} created, {} dropped, {} extra kept, {} refused, {} conflicting",
                sync.created.len(),
                sync.dropped.len(),
                sync.kept.len(),
                sync.refused.len(),
                sync.after.conflicting.len()
            )?;
            write_indexes(out, "created", &sync.created)?;
            write_indexes(out, "dropped", &sync.dropped)?;
            write_indexes(out, "extra, kept (--drop-extra drops it)", &sync.kept)?;
            for refusal in &sync.refused {
                writeln!(out, "  refused: {}", one_line(&refusal.to_string()))?;
            }
            // What a sync does not fix; extras are listed above, as kept.
            write_indexes(out, "still missing", &sync.after.missing)?;
            write_conflicts(out, &sync.after.conflicting)
        }
    }
}

fn write_diff(out: &mut dyn Write, diff: &IndexDiff) -> io::Result<()> {
    write_indexes(out, "missing", &diff.missing)?;
    write_indexes(out, "extra", &diff.extra)?;
    write_conflicts(out, &diff.conflicting)
}

fn write_indexes(out: &mut dyn Write, what: &str, indexes: &[IndexSpec]) -> io::Result<()> {
    for index in indexes {
        writeln!(out, "  {what}: {index}")?;
    }
    Ok(())
}

fn write_conflicts(out: &mut dyn Write, conflicts: &[IndexConflict]) -> io::Result<()> {
    for conflict in conflicts {
        writeln!(
            out,
            "  conflicting: declared {}, present {}: drop it, then run `app indexes sync`",
            conflict.declared, conflict.present
        )?;
    }
    Ok(())
}

fn write_summary(
    out: &mut dyn Write,
    roles: &str,
    mode: IndexesMode,
    summary: &IndexesSummary,
) -> io::Result<()> {
    let when = match mode {
        IndexesMode::Diff => "",
        IndexesMode::Sync { .. } => " after the sync",
    };
    writeln!(
        out,
        "{} collections on {}{when}: {} missing, {} extra, {} conflicting",
        summary.collections.len(),
        roles,
        summary.missing(),
        summary.extra(),
        summary.conflicting()
    )?;
    if !summary.passed() {
        writeln!(out, "DIFFERS: {}", advice(mode, summary))?;
    }
    Ok(())
}

/// What an operator can do about what differs.
fn advice(mode: IndexesMode, summary: &IndexesSummary) -> String {
    let mut steps = Vec::new();
    if let IndexesMode::Diff = mode {
        if summary.missing() > 0 {
            steps.push("`app indexes sync` creates the missing indexes");
        }
        if summary.extra() > 0 {
            steps.push("`app indexes sync --drop-extra` also drops the extra ones");
        }
    }
    let refused = summary
        .collections
        .iter()
        .filter_map(|c| c.sync.as_ref())
        .any(|sync| !sync.refused.is_empty());
    if refused {
        steps.push("what the server refused must be resolved first (duplicates under a unique field: `app check`)");
    }
    if summary.conflicting() > 0 {
        steps.push(
            "a conflicting index must be dropped by hand before the declared one can be created",
        );
    }
    steps.join("; ")
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::config::{Cli, Command};

    #[test]
    fn indexes_takes_diff_or_sync_as_subcommands_or_as_the_flags_deploy_scripts_use() {
        let parse = |args: &[&str]| Cli::try_parse_from(args).map(|cli| cli.command);
        let indexes = |role, mode| Some(Command::Indexes { role, mode });
        let sync = |drop_extra| IndexesMode::Sync { drop_extra };
        for (args, expected) in [
            (
                &["app", "indexes", "diff"][..],
                indexes(None, IndexesMode::Diff),
            ),
            (
                &["app", "indexes", "--diff"],
                indexes(None, IndexesMode::Diff),
            ),
            (&["app", "indexes", "sync"], indexes(None, sync(false))),
            (
                &["app", "indexes", "--role", "main", "--sync", "--drop-extra"],
                indexes(Some(Role::MAIN), sync(true)),
            ),
            (
                &["app", "indexes", "sync", "--drop-extra", "--role", "main"],
                indexes(Some(Role::MAIN), sync(true)),
            ),
        ] {
            assert_eq!(parse(args).unwrap(), expected, "{args:?}");
        }
        for refused in [
            &["app", "indexes"][..],
            &["app", "indexes", "--diff", "--sync"],
            &["app", "indexes", "--diff", "--drop-extra"],
            &["app", "indexes", "--drop-extra"],
            &["app", "indexes", "--diff", "--role", "Main!"],
        ] {
            assert!(parse(refused).is_err(), "{refused:?}");
        }
    }
}
