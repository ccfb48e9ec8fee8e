//! `/api/settings`: read and patch the app settings (superusers only).

use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::{Pending, Principal, Services};
use crate::settings::Settings;
use crate::{Code, Error, Result};

impl Services {
    /// The current settings snapshot.
    pub fn settings(&self) -> Arc<Settings> {
        self.settings.load_full()
    }

    pub(super) fn load_settings(store: &dyn crate::store::RecordStore) -> Result<Settings> {
        match store.load_settings()? {
            None => Ok(Settings::default()),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| Error::internal(format!("stored settings do not parse: {e}"))),
        }
    }

    pub fn get_settings(&self, who: &Principal) -> Result<Json> {
        if !who.is_superuser() {
            return Err(Error::from_code(Code::SuperuserOnly));
        }
        Ok(self.settings().redacted())
    }

    /// Validates and stores a PATCH of the settings; the new settings apply to the next
    /// request once this returns.
    pub fn update_settings(
        &self,
        who: &Principal,
        patch: &Map<String, Json>,
    ) -> Result<(Json, Pending)> {
        if !who.is_superuser() {
            return Err(Error::from_code(Code::SuperuserOnly));
        }
        let _guard = self.schema_lock.lock();
        let next = self.settings().patched(patch)?;
        let s3_changed = next.s3 != self.settings().s3;
        let files = match (&self.file_opener, s3_changed) {
            (Some(opener), true) => Some(opener.open(&next.s3).map_err(|e| {
                Error::invalid_field(
                    "An error occurred while validating the submitted data.",
                    "s3",
                    "validation_invalid_s3",
                    &e.message,
                )
            })?),
            _ => None,
        };
        let json = serde_json::to_vec(&next).map_err(Error::internal)?;
        let seq = self.store.save_settings(&json)?;
        let out = next.redacted();
        self.settings.store(Arc::new(next));
        if let Some(files) = files {
            self.set_files(files);
        }
        Ok((
            out,
            Pending {
                seq,
                obsolete: Vec::new(),
            },
        ))
    }
}
