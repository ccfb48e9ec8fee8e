//! The typed SDK generator: a collection schema (the JSON `GET /api/collections`
//! serves) in, source files out — a TypeScript client or a Rust crate with one set of
//! types per collection on top of a runtime copied from `sdk/<lang>/`.
//!
//! Pure: it does no IO and knows no server, store or HTTP client; the `basalt` binary
//! reads the schema and writes the files. The output is deterministic: the same schema
//! always gives byte-identical files (collections sorted by name, no timestamps).

mod model;
mod naming;
mod rust;
mod typescript;

pub use model::{CollectionDef, CollectionKind, FieldDef, FieldType, Schema};

/// A target language of the generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    TypeScript,
    Rust,
}

impl std::str::FromStr for Lang {
    type Err = Error;

    fn from_str(s: &str) -> Result<Lang, Error> {
        match s.to_ascii_lowercase().as_str() {
            "typescript" | "ts" => Ok(Lang::TypeScript),
            "rust" | "rs" => Ok(Lang::Rust),
            _ => Err(Error::UnknownLang(s.to_owned())),
        }
    }
}

/// One generated file: a path relative to the output directory and its contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    pub path: String,
    pub contents: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    #[error("unknown language \"{0}\" (expected typescript or rust)")]
    UnknownLang(String),
    #[error("invalid schema: {0}")]
    Schema(String),
}

/// Options of a generation run.
#[derive(Clone, Debug)]
pub struct Options {
    /// The name of the generated Rust crate (ignored for TypeScript).
    pub crate_name: String,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            crate_name: "basalt-client".to_owned(),
        }
    }
}

/// Generates the client for `schema` in `lang`; files are sorted by path.
pub fn generate(schema: &Schema, lang: Lang, options: &Options) -> Vec<File> {
    let mut files = match lang {
        Lang::TypeScript => typescript::generate(schema),
        Lang::Rust => rust::generate(schema, options),
    };
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

#[cfg(test)]
mod tests;
