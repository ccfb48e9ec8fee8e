//! `/api/files`: serving files of `file` fields (content type, disposition, ranges,
//! caching, thumbnails) and issuing file tokens for protected ones.

mod get;
mod range;
mod thumbs;
mod token;

pub use get::get_file;
pub use token::file_token;
