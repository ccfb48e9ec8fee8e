//! `/api/collections/{c}/records`: one handler per operation.

mod create;
mod delete;
mod get;
mod list;
mod update;

pub use create::create_record;
pub use delete::delete_record;
pub use get::get_record;
pub use list::list_records;
pub use update::update_record;

use basalt_core::filter::RequestInfo;
use basalt_core::service::Shape;

use crate::context::param;

/// The `expand` and `fields` parameters.
fn shape(request: &RequestInfo) -> Shape {
    Shape {
        expand: param(request, "expand").to_owned(),
        fields: param(request, "fields").to_owned(),
    }
}
