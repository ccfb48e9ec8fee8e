//! The heart of Basalt: the collection schema model and its validation, record values
//! and their codec, ids, the filter language, the error-code table, the port traits the
//! engines implement (record store, search index), and the services that use them.
//!
//! This crate does no IO of its own and must never depend on poem, sled, tantivy or
//! casbin: concrete engines live in their own crates and are wired by the binary.

pub mod auth;
pub mod backup;
pub mod codec;
pub use basalt_plugin_api::cron;
pub mod error;
pub mod files;
pub mod filter;
pub mod hooks;
pub mod ids;
pub mod logs;
pub mod mail;
pub mod oauth_http;
pub mod policy;
pub mod record;
pub mod schema;
pub mod search;
pub mod service;
pub mod settings;
pub mod store;
pub mod time;
pub mod value;

pub use error::{Code, Error, FieldError, Kind, Result};
pub use value::Value;
