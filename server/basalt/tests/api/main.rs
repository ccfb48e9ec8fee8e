//! Integration tests: the real server on 127.0.0.1:0 with a temp data dir, over HTTP.

mod auth;
mod collections;
mod kit;
mod records;
mod search;
