//! The write-ahead log: how a commit becomes durable without a sled transaction or a
//! sled flush.
//!
//! A batch of commits (see `commit`) is encoded as one record — the final value of
//! every key it writes, by tree — appended to the `wal` file and fdatasynced; only then
//! is it applied to sled, without a transaction. So every change sled holds is either
//! covered by sled's last flush or by a record in the log, and replaying the log over
//! sled (every key set to the value the record names, in log order) converges on the
//! committed state whatever part of the applied records sled had written when the
//! process or the machine stopped. Replays are idempotent.
//!
//! A record is `len (u32 LE) · crc32 (u32 LE) · epoch (u64 LE) · payload`, the checksum
//! covering the epoch and the payload. A checkpoint (on open, before a schema change,
//! when the log is full, on close) flushes sled, bumps the epoch stored in sled's meta
//! tree, flushes again and starts writing the log from its beginning: records of an
//! older epoch left further on are never read again. Replay stops at the first record
//! that is torn, of another epoch, or zero (the log grows in zeroed steps, so that
//! its records overwrite allocated blocks and an fdatasync writes no file metadata).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::StorageError;

/// The log's file, in the store's directory.
pub(super) const WAL_FILE: &str = "wal";

/// The meta key holding the log's current epoch.
pub(super) const EPOCH_KEY: &[u8] = b"wal_epoch";

/// The log grows in zeroed steps of this many bytes.
const GROW: u64 = 1 << 20;

/// Past this size the log is checkpointed and restarts from its beginning (a single
/// larger record still fits: the file grows to hold it).
const CAPACITY: u64 = 32 << 20;

const HEADER: usize = 16;

/// The payload's tag of a key that is removed.
const REMOVED: u32 = u32::MAX;

/// One tree's writes in a record: each key with its new value, or `None` if removed.
pub(super) type TreeWrites = Vec<(Vec<u8>, Option<Vec<u8>>)>;

pub(super) struct Wal {
    file: File,
    /// Where the next record goes.
    pos: u64,
    /// The file's length: everything from `pos` on is ours to overwrite.
    len: u64,
    epoch: u64,
}

/// How often and how long the log was synced, for metrics.
#[derive(Default)]
pub(super) struct SyncStats {
    syncs: AtomicU64,
    micros: AtomicU64,
}

impl SyncStats {
    pub fn get(&self) -> (u64, Duration) {
        (
            self.syncs.load(Ordering::Relaxed),
            Duration::from_micros(self.micros.load(Ordering::Relaxed)),
        )
    }

    pub fn add(&self, started: Instant) {
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.syncs.fetch_add(1, Ordering::Relaxed);
        self.micros.fetch_add(micros, Ordering::Relaxed);
    }
}

impl Wal {
    /// Opens (or creates) the log in `dir`, positioned at its beginning.
    pub fn open(dir: &Path, epoch: u64) -> Result<Wal, StorageError> {
        let path = dir.join(WAL_FILE);
        let existed = path.exists();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(StorageError::Wal)?;
        if !existed {
            // The new file's directory entry must be durable before a record in it is.
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(StorageError::Wal)?;
        }
        let len = file.metadata().map_err(StorageError::Wal)?.len();
        Ok(Wal {
            file,
            pos: 0,
            len,
            epoch,
        })
    }

    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Calls `apply` with each tree's writes of every record of the current epoch, in
    /// log order, and returns how many records there were.
    pub fn replay(
        &self,
        mut apply: impl FnMut(&[u8], TreeWrites) -> Result<(), StorageError>,
    ) -> Result<usize, StorageError> {
        let mut bytes = Vec::new();
        {
            use std::io::Read;
            (&self.file)
                .read_to_end(&mut bytes)
                .map_err(StorageError::Wal)?;
        }
        let mut at = 0;
        let mut records = 0;
        while let Some((payload, next)) = read_record(&bytes, at, self.epoch) {
            for (tree, writes) in decode(payload)? {
                apply(tree, writes)?;
            }
            records += 1;
            at = next;
        }
        Ok(records)
    }

    /// Whether a record of `payload_len` bytes fits before the log wants a checkpoint.
    pub fn fits(&self, payload_len: usize) -> bool {
        self.pos == 0 || self.pos + (HEADER + payload_len) as u64 <= CAPACITY
    }

    /// Starts the log over under `epoch` (after a checkpoint made everything before it
    /// durable in sled).
    pub fn restart(&mut self, epoch: u64) {
        self.epoch = epoch;
        self.pos = 0;
    }

    /// Appends a record holding `payload` and syncs it to disk.
    pub fn append(&mut self, payload: &[u8], stats: &SyncStats) -> Result<(), StorageError> {
        let len = u32::try_from(payload.len())
            .ok()
            .filter(|l| *l != 0)
            .ok_or_else(|| StorageError::Corrupt("a commit too large for the log".into()))?;
        let mut record = Vec::with_capacity(HEADER + payload.len());
        record.extend_from_slice(&len.to_le_bytes());
        record.extend_from_slice(&checksum(self.epoch, payload).to_le_bytes());
        record.extend_from_slice(&self.epoch.to_le_bytes());
        record.extend_from_slice(payload);
        let end = self.pos + record.len() as u64;
        if end > self.len {
            self.grow(end)?;
        }
        let started = Instant::now();
        let written = self
            .file
            .write_all_at(&record, self.pos)
            .and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            // The commits fail: a whole record that reached the disk anyway must not
            // bring them back on the next replay.
            let _ = self.file.write_all_at(&[0; HEADER], self.pos);
            return Err(StorageError::Wal(e));
        }
        stats.add(started);
        self.pos = end;
        Ok(())
    }

    /// Extends the file with zeros to hold at least `end` bytes.
    fn grow(&mut self, end: u64) -> Result<(), StorageError> {
        let target = end.div_ceil(GROW).max(self.len / GROW + 1) * GROW;
        let zeros = vec![0u8; 64 << 10];
        let mut at = self.len;
        while at < target {
            let n = (target - at).min(zeros.len() as u64) as usize;
            self.file
                .write_all_at(&zeros[..n], at)
                .map_err(StorageError::Wal)?;
            at += n as u64;
        }
        self.len = target;
        Ok(())
    }
}

fn checksum(epoch: u64, payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&epoch.to_le_bytes());
    hasher.update(payload);
    hasher.finalize()
}

/// The payload of the record at `at` and where the next one starts, if a whole record
/// of `epoch` is there.
fn read_record(bytes: &[u8], at: usize, epoch: u64) -> Option<(&[u8], usize)> {
    let header = bytes.get(at..at.checked_add(HEADER)?)?;
    let len = u32::from_le_bytes(header.get(0..4)?.try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(header.get(4..8)?.try_into().ok()?);
    let stamped = u64::from_le_bytes(header.get(8..16)?.try_into().ok()?);
    if len == 0 || stamped != epoch {
        return None;
    }
    let end = at.checked_add(HEADER)?.checked_add(len)?;
    let payload = bytes.get(at + HEADER..end)?;
    (checksum(epoch, payload) == crc).then_some((payload, end))
}

/// Encodes the writes of a batch: per tree, its name and its keys with their values.
pub(super) fn encode<'a>(trees: impl Iterator<Item = (&'a [u8], &'a TreeWrites)>) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, writes) in trees {
        put_bytes(&mut out, name);
        out.extend_from_slice(&(writes.len() as u32).to_le_bytes());
        for (key, value) in writes {
            put_bytes(&mut out, key);
            match value {
                Some(v) => put_bytes(&mut out, v),
                None => out.extend_from_slice(&REMOVED.to_le_bytes()),
            }
        }
    }
    out
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

fn decode(payload: &[u8]) -> Result<Vec<(&[u8], TreeWrites)>, StorageError> {
    let corrupt = || StorageError::Corrupt("a write-ahead log record does not decode".into());
    let mut cursor = Cursor(payload);
    let mut trees = Vec::new();
    while !cursor.0.is_empty() {
        let name = cursor.bytes().ok_or_else(corrupt)?;
        let count = cursor.u32().ok_or_else(corrupt)?;
        let mut writes = Vec::with_capacity(count.min(1 << 16) as usize);
        for _ in 0..count {
            let key = cursor.bytes().ok_or_else(corrupt)?.to_vec();
            let value = match cursor.peek_u32().ok_or_else(corrupt)? {
                REMOVED => {
                    cursor.u32();
                    None
                }
                _ => Some(cursor.bytes().ok_or_else(corrupt)?.to_vec()),
            };
            writes.push((key, value));
        }
        trees.push((name, writes));
    }
    Ok(trees)
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn peek_u32(&self) -> Option<u32> {
        Some(u32::from_le_bytes(self.0.get(..4)?.try_into().ok()?))
    }

    fn u32(&mut self) -> Option<u32> {
        let v = self.peek_u32()?;
        self.0 = self.0.get(4..)?;
        Some(v)
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = self.u32()? as usize;
        let (head, rest) = (self.0.get(..len)?, self.0.get(len..)?);
        self.0 = rest;
        Some(head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writes() -> Vec<(Vec<u8>, TreeWrites)> {
        vec![
            (
                b"r/posts".to_vec(),
                vec![
                    (b"a".to_vec(), Some(b"one".to_vec())),
                    (b"b".to_vec(), None),
                ],
            ),
            (b"meta".to_vec(), vec![(b"seq".to_vec(), Some(vec![0; 8]))]),
        ]
    }

    fn replayed(wal: &Wal) -> Vec<(Vec<u8>, TreeWrites)> {
        let mut out = Vec::new();
        wal.replay(|tree, w| {
            out.push((tree.to_vec(), w));
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn records_replay_in_order_until_a_torn_or_stale_one() {
        let dir = tempfile::tempdir().unwrap();
        let stats = SyncStats::default();
        let w = writes();
        let payload = encode(w.iter().map(|(n, w)| (n.as_slice(), w)));
        let mut wal = Wal::open(dir.path(), 7).unwrap();
        wal.append(&payload, &stats).unwrap();
        wal.append(&payload, &stats).unwrap();
        assert_eq!(stats.get().0, 2);
        let reopened = Wal::open(dir.path(), 7).unwrap();
        let mut twice = w.clone();
        twice.extend(w.clone());
        assert_eq!(replayed(&reopened), twice);
        // Another epoch reads nothing.
        assert!(replayed(&Wal::open(dir.path(), 8).unwrap()).is_empty());
        // A torn second record: the first still replays.
        let file = OpenOptions::new()
            .write(true)
            .open(dir.path().join(WAL_FILE))
            .unwrap();
        let second = (HEADER + payload.len()) as u64;
        file.write_all_at(&[0xff], second + HEADER as u64 + 3)
            .unwrap();
        assert_eq!(replayed(&Wal::open(dir.path(), 7).unwrap()), w);
        // A restarted log overwrites from the start; older records past it are ignored.
        let mut wal = Wal::open(dir.path(), 7).unwrap();
        wal.restart(9);
        let one = vec![(b"meta".to_vec(), vec![(b"k".to_vec(), None)])];
        wal.append(&encode(one.iter().map(|(n, w)| (n.as_slice(), w))), &stats)
            .unwrap();
        assert_eq!(replayed(&Wal::open(dir.path(), 9).unwrap()), one);
    }

    #[test]
    fn the_log_grows_in_zeroed_steps_and_asks_for_a_checkpoint_when_full() {
        let dir = tempfile::tempdir().unwrap();
        let stats = SyncStats::default();
        let mut wal = Wal::open(dir.path(), 1).unwrap();
        let big = [(b"t".to_vec(), vec![(b"k".to_vec(), Some(vec![1; 3 << 20]))])];
        let payload = encode(big.iter().map(|(n, w)| (n.as_slice(), w)));
        assert!(wal.fits(payload.len()));
        wal.append(&payload, &stats).unwrap();
        let len = std::fs::metadata(dir.path().join(WAL_FILE)).unwrap().len();
        assert_eq!(len % GROW, 0);
        assert!(len >= payload.len() as u64);
        let mut appended = 1;
        while wal.fits(payload.len()) {
            wal.append(&payload, &stats).unwrap();
            appended += 1;
        }
        assert!(appended * payload.len() as u64 <= CAPACITY);
        assert_eq!(
            replayed(&Wal::open(dir.path(), 1).unwrap()).len(),
            appended as usize
        );
    }
}
