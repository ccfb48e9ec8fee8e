//! A record: the values of one row, aligned with its collection's fields, with
//! input handling (`input`: coercion, modifiers, checks) and JSON rendering (`render`).

mod auth_input;
pub mod autogen;
pub(crate) mod checks;
pub mod coerce;
pub mod input;
pub mod json_out;
pub mod render;
pub mod shape;
pub mod validators;

use crate::codec::{self, DecodeError};
use crate::schema::Collection;
use crate::value::Value;

/// `values[i]` belongs to `collection.fields[i]`; the `id` field is always first.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub values: Vec<Value>,
}

impl Record {
    /// A record with every field at its zero value.
    pub fn zero(collection: &Collection) -> Record {
        Record {
            values: collection.fields.iter().map(|f| f.kind.zero()).collect(),
        }
    }

    pub fn id(&self) -> &str {
        self.values
            .first()
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    pub fn get(&self, collection: &Collection, field: &str) -> Option<&Value> {
        collection.field_pos(field).and_then(|i| self.values.get(i))
    }

    /// The stored bytes of this record.
    pub fn encode(&self, collection: &Collection) -> Vec<u8> {
        codec::encode_record(
            collection
                .fields
                .iter()
                .zip(&self.values)
                .map(|(f, v)| (f.slot, v)),
        )
    }

    /// Decodes stored bytes; fields without a stored value get their zero value and
    /// values of dropped fields are ignored.
    pub fn decode(collection: &Collection, bytes: &[u8]) -> Result<Record, DecodeError> {
        let mut record = Record::zero(collection);
        codec::visit_record(bytes, |slot, value| {
            if let Some(i) = collection.fields.iter().position(|f| f.slot == slot) {
                record.values[i] = value;
            }
        })?;
        Ok(record)
    }
}
