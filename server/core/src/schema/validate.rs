//! Collection validation (in progress).

use super::Collection;
use crate::Result;

/// What changed between two versions of a collection.
#[derive(Debug, Default)]
pub struct Changes;

pub fn validate_collection(_c: &mut Collection, _old: Option<&Collection>, _catalog: &super::Catalog) -> Result<Changes> {
    Ok(Changes)
}
