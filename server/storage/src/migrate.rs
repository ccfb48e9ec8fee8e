//! Upgrades of the on-disk format. The `meta/format` key says which format a store was
//! written in. On open, a store in an older format is brought forward one step at a
//! time (each [`Step`] is a plain function, and the format key is bumped and flushed
//! after each, so a crash mid-upgrade resumes at the step it was in); a store in a
//! newer format is refused before anything is written to it.
//!
//! Format 1 is the first released format. When the format changes, bump
//! [`FORMAT_VERSION`](crate::keys::FORMAT_VERSION) and add the step from the previous
//! one to [`STEPS`], with a test on the committed fixture of the previous format
//! (`tests/fixtures/format-<n>`).

use ::sled::{Db, Tree};

use crate::keys;
use crate::StorageError;

/// One upgrade, from format `from` to `from + 1`. Must be idempotent.
pub(crate) struct Step {
    pub from: u32,
    pub what: &'static str,
    pub run: fn(&Db) -> Result<(), StorageError>,
}

/// Every upgrade this build knows, oldest first.
pub(crate) const STEPS: &[Step] = &[
    Step {
        from: 1,
        what: "change-log entries of deletes carry the deleted record",
        // Format 2 only adds an entry shape that format 1 binaries cannot read; the
        // entries a format 1 store holds read as they are. The bump keeps older
        // binaries from opening a store whose log has the new shape.
        run: |_| Ok(()),
    },
    Step {
        from: 2,
        what: "commits go through a write-ahead log",
        // Nothing to convert: a format 2 store has no log yet. The bump keeps older
        // binaries, which would ignore the log, from opening a store whose last
        // commits may be only there.
        run: |_| Ok(()),
    },
];

/// The format a store was written in (`None` for a new, empty store).
pub(crate) fn stored_format(meta: &Tree) -> Result<Option<u32>, StorageError> {
    let Some(v) = meta.get(keys::FORMAT_KEY)? else {
        return Ok(None);
    };
    let raw: [u8; 4] = v
        .as_ref()
        .try_into()
        .map_err(|_| StorageError::Corrupt("meta format".into()))?;
    Ok(Some(u32::from_be_bytes(raw)))
}

/// Stamps a new store with `current`, refuses a newer one, and upgrades an older one
/// with `steps`. Returns the format the store was found in.
pub(crate) fn open_format(
    db: &Db,
    meta: &Tree,
    current: u32,
    steps: &[Step],
) -> Result<u32, StorageError> {
    let Some(found) = stored_format(meta)? else {
        meta.insert(keys::FORMAT_KEY, &current.to_be_bytes())?;
        db.flush()?;
        return Ok(current);
    };
    if found > current {
        return Err(StorageError::NewerFormat {
            found,
            supported: current,
        });
    }
    let mut at = found;
    while at < current {
        let step = steps
            .iter()
            .find(|s| s.from == at)
            .ok_or(StorageError::NoUpgradePath {
                found,
                supported: current,
            })?;
        tracing::info!(
            from = at,
            to = at + 1,
            what = step.what,
            "upgrading the store format"
        );
        (step.run)(db)?;
        at += 1;
        meta.insert(keys::FORMAT_KEY, &at.to_be_bytes())?;
        db.flush()?;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bump_marker(db: &Db) -> Result<(), StorageError> {
        let meta = db.open_tree(keys::META)?;
        let n = meta.get("steps")?.map(|v| v[0]).unwrap_or(0);
        meta.insert("steps", &[n + 1])?;
        Ok(())
    }

    const CHAIN: &[Step] = &[
        Step {
            from: 1,
            what: "one",
            run: bump_marker,
        },
        Step {
            from: 2,
            what: "two",
            run: bump_marker,
        },
    ];

    #[test]
    fn older_formats_are_upgraded_step_by_step_and_newer_refused() {
        let db = ::sled::Config::new().temporary(true).open().unwrap();
        let meta = db.open_tree(keys::META).unwrap();
        assert_eq!(
            open_format(&db, &meta, 1, CHAIN).unwrap(),
            1,
            "a new store is stamped"
        );
        assert_eq!(
            open_format(&db, &meta, 3, CHAIN).unwrap(),
            1,
            "found format 1"
        );
        assert_eq!(stored_format(&meta).unwrap(), Some(3));
        assert_eq!(
            meta.get("steps").unwrap().unwrap()[0],
            2,
            "both steps ran once"
        );
        assert_eq!(
            open_format(&db, &meta, 3, CHAIN).unwrap(),
            3,
            "nothing left to do"
        );
        assert_eq!(meta.get("steps").unwrap().unwrap()[0], 2);
        let err = open_format(&db, &meta, 2, CHAIN).unwrap_err();
        assert!(matches!(
            err,
            StorageError::NewerFormat {
                found: 3,
                supported: 2
            }
        ));
        let err = open_format(&db, &meta, 4, CHAIN).unwrap_err();
        assert!(matches!(err, StorageError::NoUpgradePath { found: 3, .. }));
    }
}
