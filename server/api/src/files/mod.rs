//! `/api/files`: serving files of `file` fields (content type, disposition, ranges,
//! caching, thumbnails) (file tokens are issued by `openapi::static_api`).

mod get;
mod range;
mod thumbs;

pub use get::get_file;
