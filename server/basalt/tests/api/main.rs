//! Integration tests: the real server on 127.0.0.1:0 with a temp data dir, over HTTP.

mod auth;
mod authz;
mod backups;
mod batch;
mod collections;
mod files;
mod install;
mod js_hooks;
mod kit;
mod logs;
mod mail;
mod oauth2;
mod openapi;
mod ops;
mod personal;
mod plugins;
mod plugins_builtin;
mod realtime;
mod records;
mod sdk_download;
mod search;
mod settings;
