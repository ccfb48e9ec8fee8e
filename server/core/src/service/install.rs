//! First run: creating the first superuser before any exists. The HTTP layer decides
//! who may call this (the one-time install token printed by `basalt serve`); this
//! module guarantees it can only ever create a `_superusers` record while there is none.

use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::{Action, Pending, Principal, Services, Shape, SUPERUSERS};
use crate::filter::RequestInfo;
use crate::record::Record;
use crate::store::Query;
use crate::{Code, Error, Result};

impl Services {
    /// Whether at least one superuser exists.
    pub fn has_superuser(&self) -> Result<bool> {
        let collection = self.collection(SUPERUSERS)?;
        let query = Query {
            limit: 1,
            ..Query::default()
        };
        Ok(!self.store.query(&collection, &query)?.records.is_empty())
    }

    /// Creates the first superuser from a record-create body (`email`, `password`,
    /// `passwordConfirm`), validated exactly like a superuser creating one. Fails with
    /// `Forbidden` once any superuser exists. Callers serialize concurrent attempts.
    pub fn create_first_superuser(
        &self,
        request: RequestInfo,
        body: &Map<String, Json>,
        shape: &Shape,
    ) -> Result<(Json, Pending)> {
        if self.has_superuser()? {
            return Err(Error::new(
                Code::Forbidden,
                "A superuser already exists; sign in instead.",
            ));
        }
        let collection: Arc<_> = self.collection(SUPERUSERS)?;
        // The installer acts as a superuser that has no record yet, for this one
        // create on `_superusers` only.
        let installer = Principal::Superuser {
            collection: collection.clone(),
            record: Arc::new(Record::zero(&collection)),
        };
        let permit = self.authorize(&installer, &collection, Action::Create, request)?;
        self.create_record(&installer, &permit, &collection, body, shape)
    }
}
