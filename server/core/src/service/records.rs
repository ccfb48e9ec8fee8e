//! Record use cases: list, view, create, update, delete.

use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::expand::ExpandTree;
use super::files::Written;
use super::{Action, By, FieldsPicker, Pending, Permit, Principal, Services, Staged};
use crate::files::Upload;
use crate::filter::{superuser_only_prefix, Filter, Lookup, SortKey};
use crate::record::input::{apply_input_as, Access, Input};
use crate::record::render::RecordJson;
use crate::record::Record;
use crate::schema::{Collection, FieldKind};
use crate::store::{Query, Write};
use crate::{Code, Error, Result};

/// The query parameters of a list request, raw.
#[derive(Clone, Debug, Default)]
pub struct ListParams {
    pub page: Option<usize>,
    pub per_page: Option<usize>,
    pub sort: String,
    pub filter: String,
    pub skip_total: bool,
    pub expand: String,
    pub fields: String,
    /// Basalt: full-text search terms; ranks results by relevance (see `service::search`).
    pub search: String,
    /// Basalt: with `search`, add `@search: {score, highlights}` to each item.
    pub search_highlight: bool,
}

/// PocketBase's list envelope.
#[derive(Debug)]
pub struct ListOutput {
    pub page: usize,
    pub per_page: usize,
    pub total_items: i64,
    pub total_pages: i64,
    pub items: Vec<Rendered>,
}

impl ListOutput {
    /// The envelope as JSON (`{page, perPage, totalItems, totalPages, items}`), in a
    /// buffer sized for its items.
    pub fn to_json(&self) -> Vec<u8> {
        use crate::record::json_out::{write_value, Object};
        let mut out = Vec::with_capacity(128 + BYTES_PER_ITEM * self.items.len());
        let mut object = Object::begin(&mut out);
        for (key, n) in [
            ("page", self.page as i64),
            ("perPage", self.per_page as i64),
            ("totalItems", self.total_items),
            ("totalPages", self.total_pages),
        ] {
            object.value(key, &Json::from(n));
        }
        let items = object.key("items");
        items.push(b'[');
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                items.push(b',');
            }
            match item {
                Rendered::Json(json) => write_value(items, json),
                Rendered::Plain(record) => record.write_json(items),
            }
        }
        items.push(b']');
        object.end();
        out
    }
}

/// Room reserved per listed record for the response body, so that writing a page
/// rarely regrows its buffer.
const BYTES_PER_ITEM: usize = 512;

/// A listed record as it is written out: reshaped JSON, or (when nothing reshapes it)
/// the record itself, written straight from its values.
#[derive(Debug)]
pub enum Rendered {
    Json(Json),
    Plain(RecordJson),
}

/// How a record is shaped for the response: expansion and field picking.
#[derive(Clone, Debug, Default)]
pub struct Shape {
    pub expand: String,
    pub fields: String,
}

/// Conflicting concurrent updates are retried this many times before giving up.
pub(super) const MAX_WRITE_RETRIES: usize = 16;

/// The most stored records a list may read on an async worker (see
/// [`Services::list_records_quick`]); a page of records served by an index reads about
/// as many as it shows.
pub const QUICK_LIST_BUDGET: usize = 128;

impl Services {
    pub fn list_records(
        &self,
        who: &Principal,
        permit: &Permit,
        collection: &Arc<Collection>,
        params: &ListParams,
    ) -> Result<ListOutput> {
        self.list_within(who, permit, collection, params, None)?
            .ok_or_else(|| Error::internal("a list without budget ran out of it"))
    }

    /// A list that is cheap to answer anywhere, even on an async worker: it reads at
    /// most [`QUICK_LIST_BUDGET`] stored records and nothing beyond them (no
    /// expansion or field picking, no relation joins in the filter or the rule, no
    /// counting, no full-text search). `None`: this list is not such a list; run
    /// [`Services::list_records`] where blocking is fine.
    pub fn list_records_quick(
        &self,
        who: &Principal,
        permit: &Permit,
        collection: &Arc<Collection>,
        params: &ListParams,
    ) -> Result<Option<ListOutput>> {
        self.list_within(who, permit, collection, params, Some(QUICK_LIST_BUDGET))
    }

    /// `list_records`, or with a `budget` its quick form (`None` when it does not
    /// apply or the budget ran out).
    fn list_within(
        &self,
        who: &Principal,
        permit: &Permit,
        collection: &Arc<Collection>,
        params: &ListParams,
        budget: Option<usize>,
    ) -> Result<Option<ListOutput>> {
        permit.check(collection, Action::List)?;
        let catalog = self.catalog();
        let opts = self.client_compile_options(who);
        if !permit.is_superuser() {
            for input in [&params.filter, &params.sort] {
                if let Some(prefix) = superuser_only_prefix(input) {
                    return Err(Error::new(
                        Code::SuperuserOnly,
                        format!("Only superusers can filter or sort by {prefix}* identifiers."),
                    ));
                }
            }
        }
        let mut filter = None;
        if !params.filter.trim().is_empty() {
            filter = Some(
                self.filters
                    .compile(&params.filter, collection, &catalog, &opts)?,
            );
        }
        if let Some(cond) = permit.condition() {
            filter = Some(match filter {
                Some(f) => f.and(cond.clone()),
                None => cond.clone(),
            });
        }
        let sort = if params.sort.trim().is_empty() {
            Vec::new()
        } else {
            SortKey::parse_list_with(&params.sort, collection, &catalog, &opts)?
        };
        let page = params.page.unwrap_or(1).max(1);
        let per_page = match params.per_page {
            None | Some(0) => self.limits.default_per_page,
            Some(n) => n.min(self.limits.max_per_page),
        };
        let shape = self.parse_shape(collection, &params.expand, &params.fields)?;
        let plain = shape.0.is_empty() && shape.1.is_all();
        let search = !params.search.trim().is_empty();
        if budget.is_some() && (search || !plain || !filter.as_ref().is_none_or(Filter::is_local)) {
            return Ok(None);
        }
        if search {
            let list = super::search::SearchList {
                params,
                filter,
                sort,
                page,
                per_page,
                shape,
            };
            return self.search_records(who, permit, collection, list).map(Some);
        }
        // A cached total answers the same question only: one that reads the clock is
        // counted every time, and one that depends on the caller (a rule's condition,
        // or `@request.*` in a superuser's filter) is kept per caller.
        let reuse_total = !params.skip_total && !filter.as_ref().is_some_and(Filter::reads_clock);
        let per_caller = permit.condition().is_some() || params.filter.contains("@request");
        let count_key = format!(
            "{}\u{0}{}\u{0}{}",
            params.filter,
            if per_caller {
                permit.cache_scope()
            } else {
                String::new()
            },
            permit.is_superuser()
        );
        let mut version = self.counts.version();
        let mut cached_total = if reuse_total {
            self.counts.get(&collection.id, &count_key, version)
        } else {
            None
        };
        if budget.is_some() && !params.skip_total && cached_total.is_none() {
            // Counting reads every match.
            return Ok(None);
        }
        let mut counting = None;
        if reuse_total && cached_total.is_none() {
            counting = Some(self.counts.counting(&collection.id, &count_key));
            // Someone may have counted while this request waited.
            version = self.counts.version();
            cached_total = self.counts.get(&collection.id, &count_key, version);
        }
        let query = Query {
            filter,
            sort,
            offset: (page - 1).saturating_mul(per_page),
            limit: per_page,
            count_total: !params.skip_total && cached_total.is_none(),
            request: permit.shared_request().clone(),
            budget,
        };
        let mut result = self.store.query(collection, &query)?;
        if result.over_budget {
            return Ok(None);
        }
        if let Some(total) = result.total.filter(|_| reuse_total) {
            self.counts.put(&collection.id, count_key, version, total);
        }
        // Counted (or failed): the others waiting for this total go on.
        drop(counting);
        result.total = result.total.or(cached_total);
        let items = result
            .records
            .into_iter()
            .map(|record| {
                if plain {
                    Ok(Rendered::Plain(RecordJson {
                        collection: collection.clone(),
                        opts: self.render_options(who, collection, &record),
                        record,
                    }))
                } else {
                    self.render(who, collection, &record, &shape)
                        .map(Rendered::Json)
                }
            })
            .collect::<Result<_>>()?;
        let (total_items, total_pages) = match result.total {
            Some(total) => (total as i64, total.div_ceil(per_page) as i64),
            None => (-1, -1),
        };
        Ok(Some(ListOutput {
            page,
            per_page,
            total_items,
            total_pages,
            items,
        }))
    }

    pub fn get_record(
        &self,
        who: &Principal,
        permit: &Permit,
        collection: &Arc<Collection>,
        id: &str,
        shape: &Shape,
    ) -> Result<Json> {
        permit.check(collection, Action::View)?;
        let record = self.visible_record(self.store(), permit, collection, id)?;
        let shape = self.parse_shape(collection, &shape.expand, &shape.fields)?;
        self.render(who, collection, &record, &shape)
    }

    pub fn create_record(
        &self,
        who: &Principal,
        permit: &Permit,
        collection: &Arc<Collection>,
        body: &Map<String, Json>,
        shape: &Shape,
    ) -> Result<(Json, Pending)> {
        let mut body = body.clone();
        self.create_record_with_files(who, permit, collection, &mut body, Vec::new(), shape)
    }

    /// Whether a create of `collection` under `permit`, without uploaded files, may
    /// go through [`Services::create_record_then`]: nothing of it blocks. Creates that
    /// run hooks, hash a password (auth collections), reload the policies, read
    /// related records, or check a rule that reads the store do not.
    pub fn creates_quickly(&self, permit: &Permit, collection: &Collection) -> bool {
        let before_hooks = self.hooks.get().is_some_and(|hooks| {
            hooks.wants_before(&collection.name, crate::store::Action::Create)
        });
        !before_hooks
            && !self.commit_has_aftermath(collection)
            && permit.is_local()
            && !collection
                .fields
                .iter()
                .any(|f| matches!(f.kind, FieldKind::Relation(_)))
    }

    /// A create (one [`Services::creates_quickly`] allows) that does not block: the
    /// record is checked and rendered here, and `done` gets the outcome of its commit,
    /// on another thread. An error found before the commit is returned instead, and
    /// `done` is never called.
    pub fn create_record_then(
        &self,
        who: &Principal,
        permit: &Permit,
        collection: &Arc<Collection>,
        body: &Map<String, Json>,
        shape: &Shape,
        done: Created,
    ) -> Result<()> {
        permit.check(collection, Action::Create)?;
        if !self.creates_quickly(permit, collection) {
            return Err(Error::internal(
                "a create that blocks was not sent to the blocking pool",
            ));
        }
        let shape = self.parse_shape(collection, &shape.expand, &shape.fields)?;
        let record = self.prepare_create(self.store(), permit, collection, body, &[])?;
        let out = self.render(who, collection, &record, &shape)?;
        let write = Write::Create {
            collection: collection.clone(),
            record,
        };
        self.commit_then(
            vec![write],
            Box::new(move |committed| done(committed.map(|pending| (out, pending)))),
        )
    }

    /// A create whose body comes with uploaded files (multipart): the files are
    /// checked and named ([`Services::stage_uploads`]) and their names merged into
    /// `body`, the record is validated, then the referenced files are stored and the
    /// record committed; a failed commit removes the stored files again.
    pub fn create_record_with_files(
        &self,
        who: &Principal,
        permit: &Permit,
        collection: &Arc<Collection>,
        body: &mut Map<String, Json>,
        uploads: Vec<Upload>,
        shape: &Shape,
    ) -> Result<(Json, Pending)> {
        permit.check(collection, Action::Create)?;
        let shape = self.parse_shape(collection, &shape.expand, &shape.fields)?;
        let create = crate::store::Action::Create;
        self.run_before_hooks(self.store(), permit, collection, create, None, body)?;
        let staged = self.stage_uploads(collection, body, uploads, true)?;
        let record = self.prepare_create(self.store(), permit, collection, body, staged.names())?;
        let mut written = Written::default();
        let committed = self
            .write_blobs(collection, &record, &staged, &mut written)
            .and_then(|()| {
                let write = Write::Create {
                    collection: collection.clone(),
                    record: record.clone(),
                };
                self.commit_by(vec![write], By::Permit(permit))
            });
        match committed {
            Ok(pending) => {
                self.keep_blobs(collection, &record, written);
                Ok((self.render(who, collection, &record, &shape)?, pending))
            }
            Err(e) => {
                self.discard_blobs(written);
                Err(e)
            }
        }
    }

    pub fn update_record(
        &self,
        who: &Principal,
        permit: &Permit,
        collection: &Arc<Collection>,
        id: &str,
        body: &Map<String, Json>,
        shape: &Shape,
    ) -> Result<(Json, Pending)> {
        let mut body = body.clone();
        self.update_record_with_files(who, permit, collection, id, &mut body, Vec::new(), shape)
    }

    /// [`Services::update_record`] with uploaded files, like
    /// [`Services::create_record_with_files`]. Files the update replaces or removes are
    /// deleted only once the update is durable (see [`Pending`]).
    #[allow(clippy::too_many_arguments)]
    pub fn update_record_with_files(
        &self,
        who: &Principal,
        permit: &Permit,
        collection: &Arc<Collection>,
        id: &str,
        body: &mut Map<String, Json>,
        uploads: Vec<Upload>,
        shape: &Shape,
    ) -> Result<(Json, Pending)> {
        permit.check(collection, Action::Update)?;
        let shape = self.parse_shape(collection, &shape.expand, &shape.fields)?;
        let update = crate::store::Action::Update;
        self.run_before_hooks(self.store(), permit, collection, update, Some(id), body)?;
        let staged = self.stage_uploads(collection, body, uploads, false)?;
        let mut written = Written::default();
        let result = self.update_attempts(permit, collection, id, body, &staged, &mut written);
        match result {
            Ok((new, pending)) => {
                self.keep_blobs(collection, &new, written);
                Ok((self.render(who, collection, &new, &shape)?, pending))
            }
            Err(e) => {
                self.discard_blobs(written);
                Err(e)
            }
        }
    }

    /// Applies an update, re-reading and retrying when a concurrent writer won.
    fn update_attempts(
        &self,
        permit: &Permit,
        collection: &Arc<Collection>,
        id: &str,
        body: &Map<String, Json>,
        staged: &Staged,
        written: &mut Written,
    ) -> Result<(Record, Pending)> {
        for _ in 0..MAX_WRITE_RETRIES {
            let (old, new) =
                self.prepare_update(self.store(), permit, collection, id, body, staged.names())?;
            self.write_blobs(collection, &new, staged, written)?;
            let write = Write::Update {
                collection: collection.clone(),
                old,
                new: new.clone(),
            };
            match self.commit_by(vec![write], By::Permit(permit)) {
                Ok(pending) => return Ok((new, pending)),
                Err(e) if e.code == Code::Conflict => continue,
                Err(e) => return Err(e),
            }
        }
        Err(busy())
    }

    pub fn delete_record(
        &self,
        permit: &Permit,
        collection: &Arc<Collection>,
        id: &str,
    ) -> Result<Pending> {
        permit.check(collection, Action::Delete)?;
        let delete = crate::store::Action::Delete;
        let mut nothing = Map::new();
        self.run_before_hooks(
            self.store(),
            permit,
            collection,
            delete,
            Some(id),
            &mut nothing,
        )?;
        for _ in 0..MAX_WRITE_RETRIES {
            let writes = self.prepare_delete(self.store(), permit, collection, id)?;
            match self.commit_by(writes, By::Permit(permit)) {
                Ok(pending) => return Ok(pending),
                Err(e) if e.code == Code::Conflict => continue,
                Err(e) => return Err(e),
            }
        }
        Err(busy())
    }

    /// The record a create would store, checked against the permit, reading related
    /// records through `view` (the store, or a batch's pending writes over it).
    pub(super) fn prepare_create(
        &self,
        view: &dyn Lookup,
        permit: &Permit,
        collection: &Arc<Collection>,
        body: &Map<String, Json>,
        new_files: &[String],
    ) -> Result<Record> {
        let record = self.input_for_create(view, permit, collection, body, new_files)?;
        if !permit.allows(&record, view)? {
            return Err(Error::new(
                Code::ValidationFailed,
                "Failed to create record.",
            ));
        }
        Ok(record)
    }

    /// The old and new versions of an update of the record `id`, read through `view`.
    pub(super) fn prepare_update(
        &self,
        view: &dyn Lookup,
        permit: &Permit,
        collection: &Arc<Collection>,
        id: &str,
        body: &Map<String, Json>,
        new_files: &[String],
    ) -> Result<(Record, Record)> {
        let old = self.visible_record(view, permit, collection, id)?;
        let input = Input {
            access: self.access_to(view, permit, collection, &old)?,
            new_files,
        };
        let new = apply_input_as(collection, Some(&old), body, view, &self.catalog(), &input)?;
        Ok((old, new))
    }

    /// The writes deleting the record `id` (with cascades), read through `view`.
    pub(super) fn prepare_delete(
        &self,
        view: &dyn Lookup,
        permit: &Permit,
        collection: &Arc<Collection>,
        id: &str,
    ) -> Result<Vec<Write>> {
        let old = self.visible_record(view, permit, collection, id)?;
        self.delete_writes(view, collection, old)
    }

    /// The access level of the caller on `record`: superuser, manager (an auth
    /// collection's `manageRule` matches), or default.
    fn access_to(
        &self,
        view: &dyn Lookup,
        permit: &Permit,
        collection: &Arc<Collection>,
        record: &Record,
    ) -> Result<Access> {
        if permit.is_superuser() {
            return Ok(Access::Superuser);
        }
        let Some(Some(rule)) = collection.manage_rule.as_ref() else {
            return Ok(Access::Default);
        };
        if permit.request().auth.is_none() {
            return Ok(Access::Default);
        }
        if rule.trim().is_empty() {
            return Ok(Access::Manager);
        }
        let filter = Filter::compile(rule, collection, &self.catalog(), None)?;
        Ok(if filter.matches(record, view, permit.request())? {
            Access::Manager
        } else {
            Access::Default
        })
    }

    /// The new record of a create. A body that sets what only managers may set
    /// (`verified`, …) is accepted when the `manageRule` matches the result.
    fn input_for_create(
        &self,
        view: &dyn Lookup,
        permit: &Permit,
        collection: &Arc<Collection>,
        body: &Map<String, Json>,
        new_files: &[String],
    ) -> Result<Record> {
        let catalog = self.catalog();
        let apply = |access| {
            let input = Input { access, new_files };
            apply_input_as(collection, None, body, view, &catalog, &input)
        };
        if permit.is_superuser() {
            return apply(Access::Superuser);
        }
        let first = apply(Access::Default);
        if first.is_ok() || !matches!(collection.manage_rule, Some(Some(_))) {
            return first;
        }
        match apply(Access::Manager) {
            Ok(record) if self.access_to(view, permit, collection, &record)? == Access::Manager => {
                Ok(record)
            }
            _ => first,
        }
    }

    /// The record `id`, or 404 when it is missing or the permit's condition hides it.
    fn visible_record(
        &self,
        view: &dyn Lookup,
        permit: &Permit,
        collection: &Arc<Collection>,
        id: &str,
    ) -> Result<Record> {
        let record = view
            .get(collection, id)?
            .ok_or_else(|| Error::from_code(Code::RecordNotFound))?;
        if !permit.allows(&record, view)? {
            return Err(Error::from_code(Code::RecordNotFound));
        }
        Ok(record)
    }

    pub(super) fn parse_shape(
        &self,
        collection: &Arc<Collection>,
        expand: &str,
        fields: &str,
    ) -> Result<(ExpandTree, FieldsPicker)> {
        let expand = ExpandTree::parse(expand, &self.limits)?;
        let _ = collection;
        let fields = FieldsPicker::parse(fields, self.limits.max_fields_len)?;
        Ok((expand, fields))
    }

    pub(super) fn render(
        &self,
        who: &Principal,
        collection: &Arc<Collection>,
        record: &Record,
        shape: &(ExpandTree, FieldsPicker),
    ) -> Result<Json> {
        let mut json = self.render_plain(who, collection, record);
        if !shape.0.is_empty() {
            if let Some(expanded) = self.expand(who, collection, record, &shape.0, 1)? {
                json.insert("expand".into(), Json::Object(expanded));
            }
        }
        Ok(shape.1.apply(Json::Object(json)))
    }
}

/// What [`Services::create_record_then`] calls with the commit's outcome: the rendered
/// record and the write to wait for.
pub type Created = Box<dyn FnOnce(Result<(Json, Pending)>) + Send>;

/// Every retry of a write lost to concurrent writers.
pub(super) fn busy() -> Error {
    Error::new(
        Code::Conflict,
        "The record is being changed by others; try again.",
    )
}
