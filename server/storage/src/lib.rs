//! Record stores for Basalt: [`SledStore`], the embedded sled implementation of
//! basalt-core's [`RecordStore`](basalt_core::store::RecordStore) port, and
//! [`MemoryStore`], a small in-memory reference implementation with the same
//! semantics. Both pass one conformance suite (`conformance::run_conformance`, behind
//! the `conformance` feature).
//!
//! This crate owns the on-disk key layout, secondary, unique and relation indexes, the
//! change log, the query planner and the write-ahead log. It must never let sled leak out of
//! its public API (callers see [`SledStore`], [`SledOptions`] and [`StorageError`],
//! which maps onto basalt-core's error codes), never panic on stored or client input,
//! and never acknowledge a write before it is on disk (every write is durable when its
//! call returns). All methods block: async callers use `spawn_blocking`.
//!
//! # Key layout (store format 3)
//!
//! | tree | key | value |
//! |---|---|---|
//! | `meta` | `format` | format version, u32 big-endian (older ones are upgraded on open, newer ones refused: see `migrate`) |
//! | `meta` | `seq` | last allocated change-log sequence, u64 big-endian |
//! | `meta` | `wal_epoch` | the write-ahead log's current epoch, u64 big-endian |
//! | `collections` | collection id | JSON of `StoredCollection` |
//! | `r/<collectionId>` | record id | creation seq (u64 BE) ++ `Record::encode` bytes |
//! | `o/<collectionId>` | creation seq (u64 BE) ++ record id | empty: insertion order |
//! | `i/<collectionId>/<index>/<sig>` non-unique | `index_key(columns)` ++ record id | empty |
//! | `i/<collectionId>/<index>/<sig>` unique | `index_key(columns)` | record id |
//! | `x/<collectionId>/<fieldId>` | target id ++ `0x00` ++ record id | empty: relation reverse index |
//! | `changes` | seq (u64 BE) | action byte, varint-prefixed collection id, record id; a delete: varint-prefixed record id ++ the record's last stored bytes |
//!
//! `<sig>` is a hash of the index's uniqueness, column slots and partial-index slot, so
//! a changed definition gets a fresh tree that is built before the new definition is
//! committed, and a renamed field changes nothing. Partial indexes
//! (`WHERE f != ''`) skip records whose `f` is a zero value. Every relation field gets a
//! reverse tree automatically. Records keep their creation seq so that the default list
//! order is insertion order (PocketBase's rowid order) and can be walked cheaply.
//!
//! # Writes, durability, reads
//!
//! Record, index, reverse, insertion-order and change-log entries of one
//! [`commit`](basalt_core::store::RecordStore::commit) are computed under the commit
//! lock, together with those of every commit queued behind it, appended to the
//! write-ahead log (the `wal` file beside sled's) as one record, fdatasynced, and only
//! then applied to sled without a transaction (see `disk::wal`: replaying the log on
//! open repairs whatever part of it sled had not written). The change-log seq is
//! allocated under the lock from `meta/seq`, so seqs increase in commit order. Updates
//! and deletes conflict when the stored record no longer reads (under the writer's
//! definition) as the `old` the writer saw; a writer holding an older definition than
//! the store's keeps the values of fields it does not know.
//!
//! Schema changes build new trees first, commit the definition, then drop the trees it
//! no longer references; on open, trees no stored definition references (left by a
//! crash mid-change) are dropped. Record writes wait while an index is being built.
//!
//! Queries go through a small planner (see `planner`): point lookups, index ranges and
//! index-ordered walks that stop once the page is full, else a scan with a bounded
//! top-k. Every candidate is still checked against the whole filter. Records are read
//! by id through a cache in front of sled (`disk::cache`) that commits write through.

mod changes;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
mod disk;
mod dump;
mod error;
mod exec;
mod keys;
mod layout;
mod logs;
mod memory;
mod migrate;
mod order;
mod planner;
mod write;

pub use crate::disk::{SledOptions, SledStore};
pub use crate::error::{EngineError, StorageError, WriteKind};
pub use crate::logs::FileLogStore;
pub use crate::memory::MemoryStore;
