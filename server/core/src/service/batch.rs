//! The transactional batch: creates, updates, upserts and deletes across collections,
//! each through the same rule and policy gate as its single-request twin, committed
//! as one atomic store write.
//!
//! Operations run in order against an [`Overlay`]: the store as it was when the batch
//! started, plus the writes of the earlier operations, so an operation sees (and may
//! relate to, update or delete) records the batch created before it. Nothing reaches
//! the store until every operation has passed; then all writes commit together. A
//! concurrent writer that changed a record the batch read makes the commit fail with
//! a conflict, and the whole batch is prepared again from the new state.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value as Json};

use super::files::Written;
use super::records::{busy, MAX_WRITE_RETRIES};
use super::{Action, By, Pending, Principal, Services, Shape, Staged};
use crate::files::Upload;
use crate::filter::{Lookup, RequestInfo};
use crate::record::Record;
use crate::schema::Collection;
use crate::store::Write;
use crate::{Code, Error, FieldError, Result};

/// What one batch operation does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchAction {
    Create,
    Update {
        id: String,
    },
    /// Updates the record named by the body's `id` when it exists, creates it otherwise.
    Upsert,
    Delete {
        id: String,
    },
}

/// One operation of a batch, as the HTTP layer parsed it.
#[derive(Clone, Debug)]
pub struct BatchOp {
    /// The collection's id or name.
    pub collection: String,
    pub action: BatchAction,
    pub body: Map<String, Json>,
    /// What `@request.*` resolves to for this operation (its own method, query, headers
    /// and body; the batch's caller).
    pub request: RequestInfo,
    pub shape: Shape,
    /// Files for the request's file fields (multipart `requests.<i>.<field>` parts).
    pub uploads: Vec<Upload>,
}

/// One operation's response: the status and body its single-request twin would send.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchResult {
    pub status: u16,
    pub body: Json,
}

/// Why a batch failed: the operation at `index` (if one is to blame) and its error.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchFailure {
    pub index: Option<usize>,
    pub error: Error,
}

impl BatchFailure {
    fn at(index: usize, error: Error) -> BatchFailure {
        BatchFailure {
            index: Some(index),
            error,
        }
    }
}

/// What an operation left to render once the batch committed.
enum Done {
    Record(Arc<Collection>, Record, Shape),
    Deleted,
}

/// An operation's uploads, named and checked, to store before the commit.
type Blobs = (Arc<Collection>, Record, Staged);

/// A prepared batch: its writes, what to render, and the files to store.
struct Prepared {
    writes: Vec<Write>,
    done: Vec<Done>,
    blobs: Vec<Blobs>,
}

impl Services {
    /// Runs `ops` in order and commits all their writes atomically, or none of them.
    /// Fails with the first failing operation's error, or without an index when the
    /// batch as a whole fails (`deadline` passed, the store refused the commit).
    pub fn run_batch(
        &self,
        who: &Principal,
        ops: &[BatchOp],
        deadline: Instant,
    ) -> std::result::Result<(Vec<BatchResult>, Pending), BatchFailure> {
        for _ in 0..MAX_WRITE_RETRIES {
            let Prepared {
                writes,
                done,
                blobs,
            } = self.prepare_batch(who, ops, deadline)?;
            // Files first, so a committed record never names a missing file; removed
            // again if the commit fails, so a failed batch leaves no orphan.
            let mut written = Written::default();
            let stored = blobs
                .iter()
                .try_for_each(|(c, r, staged)| self.write_blobs(c, r, staged, &mut written));
            if let Err(e) = stored {
                self.discard_blobs(written);
                return Err(BatchFailure {
                    index: None,
                    error: e,
                });
            }
            match self.commit_by(writes, By::Principal(who)) {
                Ok(pending) => {
                    let results = self.render_batch(who, done)?;
                    return Ok((results, pending));
                }
                Err(e) => {
                    self.discard_blobs(written);
                    if e.code != Code::Conflict {
                        return Err(blame(ops, e));
                    }
                }
            }
        }
        Err(BatchFailure {
            index: None,
            error: busy(),
        })
    }

    fn prepare_batch(
        &self,
        who: &Principal,
        ops: &[BatchOp],
        deadline: Instant,
    ) -> std::result::Result<Prepared, BatchFailure> {
        let mut overlay = Overlay::new(self.store());
        let mut done = Vec::with_capacity(ops.len());
        let mut blobs = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            if Instant::now() > deadline {
                return Err(BatchFailure {
                    index: None,
                    error: Error::bad_request(
                        "The batch did not finish within its time limit (batch.timeout).",
                    ),
                });
            }
            let (writes, result, files) = self
                .prepare_op(who, op, &overlay)
                .map_err(|e| BatchFailure::at(i, e))?;
            overlay.push(writes);
            done.push(result);
            blobs.extend(files);
        }
        Ok(Prepared {
            writes: overlay.writes,
            done,
            blobs,
        })
    }

    fn prepare_op(
        &self,
        who: &Principal,
        op: &BatchOp,
        view: &Overlay<'_>,
    ) -> Result<(Vec<Write>, Done, Option<Blobs>)> {
        let collection = self.collection(&op.collection).map_err(|mut e| {
            e.message = "Missing or invalid collection context.".into();
            e
        })?;
        let action = match &op.action {
            BatchAction::Upsert => match op.body.get("id").and_then(Json::as_str) {
                Some(id) if !id.is_empty() && view.get(&collection, id)?.is_some() => {
                    BatchAction::Update { id: id.to_owned() }
                }
                _ => BatchAction::Create,
            },
            other => other.clone(),
        };
        let mut request = op.request.clone();
        let (gate, method) = match action {
            BatchAction::Create => (Action::Create, "POST"),
            BatchAction::Update { .. } => (Action::Update, "PATCH"),
            BatchAction::Delete { .. } => (Action::Delete, "DELETE"),
            BatchAction::Upsert => unreachable!("upsert resolved above"),
        };
        request.method = method.to_owned();
        let permit = self.authorize(who, &collection, gate, request)?;
        permit.check(&collection, gate)?;
        let mut body = op.body.clone();
        let (hook_action, hook_id) = match &action {
            BatchAction::Create => (crate::store::Action::Create, None),
            BatchAction::Update { id } => (crate::store::Action::Update, Some(id.as_str())),
            _ => (crate::store::Action::Delete, op_id(&action)),
        };
        self.run_before_hooks(view, &permit, &collection, hook_action, hook_id, &mut body)?;
        let staged = match action {
            BatchAction::Create | BatchAction::Update { .. } => {
                let creating = matches!(action, BatchAction::Create);
                self.stage_uploads(&collection, &mut body, op.uploads.clone(), creating)?
            }
            _ => Staged::default(),
        };
        let blobs = |record: &Record, staged: Staged| {
            (!staged.is_empty()).then(|| (collection.clone(), record.clone(), staged))
        };
        match action {
            BatchAction::Create => {
                self.parse_shape(&collection, &op.shape.expand, &op.shape.fields)?;
                let record =
                    self.prepare_create(view, &permit, &collection, &body, staged.names())?;
                if view.get(&collection, record.id())?.is_some() {
                    let mut data = BTreeMap::new();
                    data.insert(
                        "id".to_owned(),
                        FieldError::new(
                            "validation_not_unique",
                            "The record id is already in use.",
                        ),
                    );
                    return Err(Error::validation("Failed to create record.", data));
                }
                let files = blobs(&record, staged);
                let write = Write::Create {
                    collection: collection.clone(),
                    record: record.clone(),
                };
                Ok((
                    vec![write],
                    Done::Record(collection, record, op.shape.clone()),
                    files,
                ))
            }
            BatchAction::Update { id } => {
                self.parse_shape(&collection, &op.shape.expand, &op.shape.fields)?;
                let (old, new) =
                    self.prepare_update(view, &permit, &collection, &id, &body, staged.names())?;
                let files = blobs(&new, staged);
                let write = Write::Update {
                    collection: collection.clone(),
                    old,
                    new: new.clone(),
                };
                Ok((
                    vec![write],
                    Done::Record(collection, new, op.shape.clone()),
                    files,
                ))
            }
            BatchAction::Delete { id } => {
                let writes = self.prepare_delete(view, &permit, &collection, &id)?;
                Ok((writes, Done::Deleted, None))
            }
            BatchAction::Upsert => unreachable!("upsert resolved above"),
        }
    }

    fn render_batch(
        &self,
        who: &Principal,
        done: Vec<Done>,
    ) -> std::result::Result<Vec<BatchResult>, BatchFailure> {
        let mut results = Vec::with_capacity(done.len());
        for (i, d) in done.into_iter().enumerate() {
            results.push(match d {
                Done::Record(collection, record, shape) => {
                    let shape = self
                        .parse_shape(&collection, &shape.expand, &shape.fields)
                        .map_err(|e| BatchFailure::at(i, e))?;
                    let body = self
                        .render(who, &collection, &record, &shape)
                        .map_err(|e| BatchFailure::at(i, e))?;
                    BatchResult { status: 200, body }
                }
                Done::Deleted => BatchResult {
                    status: 204,
                    body: Json::Null,
                },
            });
        }
        Ok(results)
    }
}

/// The record id of an update or delete.
fn op_id(action: &BatchAction) -> Option<&str> {
    match action {
        BatchAction::Update { id } | BatchAction::Delete { id } => Some(id),
        _ => None,
    }
}

/// The store refused the commit (a unique index): the operation to blame is the last
/// one whose body sets a field the error names, else the last one.
fn blame(ops: &[BatchOp], error: Error) -> BatchFailure {
    let index = ops
        .iter()
        .rposition(|op| error.data.keys().any(|f| op.body.contains_key(f)))
        .or(ops.len().checked_sub(1));
    BatchFailure { index, error }
}

/// The store as the batch sees it: the stored records with the batch's own writes so
/// far laid over them.
struct Overlay<'a> {
    base: &'a dyn Lookup,
    writes: Vec<Write>,
    /// The latest state of every record the batch wrote, by (collection id, record
    /// id); `None` once deleted.
    state: BTreeMap<(String, String), Option<Record>>,
}

impl<'a> Overlay<'a> {
    fn new(base: &'a dyn Lookup) -> Overlay<'a> {
        Overlay {
            base,
            writes: Vec::new(),
            state: BTreeMap::new(),
        }
    }

    fn push(&mut self, writes: Vec<Write>) {
        for write in &writes {
            let (collection, id, after) = match write {
                Write::Create { collection, record } => {
                    (collection, record.id(), Some(record.clone()))
                }
                Write::Update {
                    collection, new, ..
                } => (collection, new.id(), Some(new.clone())),
                Write::Delete { collection, old } => (collection, old.id(), None),
            };
            self.state
                .insert((collection.id.clone(), id.to_owned()), after);
        }
        self.writes.extend(writes);
    }

    fn touched(&self, collection: &Collection, id: &str) -> bool {
        self.state
            .contains_key(&(collection.id.clone(), id.to_owned()))
    }

    /// The records of `collection` the batch created or changed (not deleted ones).
    fn written<'s>(&'s self, collection: &'s Collection) -> impl Iterator<Item = &'s Record> {
        self.state
            .iter()
            .filter(move |((c, _), _)| *c == collection.id)
            .filter_map(|(_, r)| r.as_ref())
    }
}

impl Lookup for Overlay<'_> {
    fn get(&self, collection: &Collection, id: &str) -> Result<Option<Record>> {
        match self.state.get(&(collection.id.clone(), id.to_owned())) {
            Some(state) => Ok(state.clone()),
            None => self.base.get(collection, id),
        }
    }

    fn referencing(
        &self,
        collection: &Collection,
        field_pos: usize,
        id: &str,
    ) -> Result<Vec<Record>> {
        let mut found: Vec<Record> = self
            .base
            .referencing(collection, field_pos, id)?
            .into_iter()
            .filter(|r| !self.touched(collection, r.id()))
            .collect();
        found.extend(
            self.written(collection)
                .filter(|r| {
                    r.values
                        .get(field_pos)
                        .is_some_and(|v| v.strings().contains(&id))
                })
                .cloned(),
        );
        Ok(found)
    }

    fn scan(&self, collection: &Collection, visit: &mut dyn FnMut(Record) -> bool) -> Result<()> {
        let mut more = true;
        self.base.scan(collection, &mut |record| {
            if self.touched(collection, record.id()) {
                return true;
            }
            more = visit(record);
            more
        })?;
        if more {
            for record in self.written(collection) {
                if !visit(record.clone()) {
                    break;
                }
            }
        }
        Ok(())
    }
}
