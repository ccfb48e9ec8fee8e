//! How a collection maps onto a tantivy schema: one indexed text field per searchable
//! field (named like it), plus the record id, and the analyzer every text field uses.

use basalt_core::record::Record;
use basalt_core::schema::{Collection, FieldKind};
use basalt_core::Value;
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, STORED, STRING,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    TextAnalyzer,
};
use tantivy::TantivyDocument;

/// The tantivy field holding the record id (stored, untokenized). Collection field
/// names are word characters only, so it never clashes with one.
pub(crate) const ID_FIELD: &str = "@id";

/// The analyzer name every text field uses; each index registers its own.
pub(crate) const ANALYZER: &str = "basalt";

/// Tokens longer than this many bytes are dropped (hashes, base64 blobs).
const MAX_TOKEN_BYTES: usize = 40;

/// Bumped whenever the way documents are built changes, so old indexes get rebuilt.
const FORMAT: u32 = 1;

/// One searchable field.
#[derive(Clone, Debug)]
pub(crate) struct MappedField {
    pub name: String,
    pub field: Field,
    /// Editor fields hold HTML: markup is stripped before indexing.
    pub html: bool,
}

/// A collection's search mapping.
#[derive(Clone, Debug)]
pub(crate) struct Mapping {
    pub schema: Schema,
    pub id: Field,
    pub fields: Vec<MappedField>,
    pub language: String,
    /// Identifies everything the index content depends on; an index built for another
    /// fingerprint is rebuilt.
    pub fingerprint: String,
}

impl Mapping {
    /// The mapping of `collection`, or `None` when it has no searchable fields.
    pub fn of(collection: &Collection) -> Option<Mapping> {
        let searchable: Vec<_> = collection.searchable_fields().collect();
        if searchable.is_empty() {
            return None;
        }
        let mut builder = Schema::builder();
        let id = builder.add_text_field(ID_FIELD, STRING | STORED);
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions);
        let options = TextOptions::default().set_indexing_options(indexing);
        let mut fields = Vec::new();
        let mut fingerprint = format!("v{FORMAT};{};", collection.search_language);
        for f in searchable {
            fingerprint.push_str(&format!("{}:{};", f.name, f.kind.type_name()));
            fields.push(MappedField {
                name: f.name.clone(),
                field: builder.add_text_field(&f.name, options.clone()),
                html: matches!(f.kind, FieldKind::Editor(_)),
            });
        }
        Some(Mapping {
            schema: builder.build(),
            id,
            fields,
            language: collection.search_language.clone(),
            fingerprint,
        })
    }

    /// A short stable name for the fingerprint, used as the index directory name.
    pub fn dir_name(&self) -> String {
        // FNV-1a: stable across builds and platforms, unlike std's hasher.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.fingerprint.bytes() {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{hash:016x}")
    }

    /// Lowercasing, ASCII folding, and stemming when the collection names a language.
    pub fn analyzer(&self) -> TextAnalyzer {
        let builder = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .dynamic();
        match language(&self.language) {
            Some(lang) => builder.filter_dynamic(Stemmer::new(lang)).build(),
            None => builder.build(),
        }
    }

    /// The tantivy document of `record`.
    pub fn document(&self, collection: &Collection, record: &Record) -> TantivyDocument {
        let mut doc = TantivyDocument::default();
        doc.add_text(self.id, record.id());
        for f in &self.fields {
            for text in self.texts(collection, record, f) {
                doc.add_text(f.field, &text);
            }
        }
        doc
    }

    /// The texts `record` holds in the searchable field `f`, as indexed.
    pub fn texts(&self, collection: &Collection, record: &Record, f: &MappedField) -> Vec<String> {
        let Some(value) = record.get(collection, &f.name) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        collect_texts(value, &mut out);
        if f.html {
            out = out
                .iter()
                .map(|t| strip_tags(t).trim().to_owned())
                .collect();
        }
        out.retain(|t| !t.trim().is_empty());
        out
    }
}

/// Strings of a value: text, each listed value, every string and number in JSON.
fn collect_texts(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Text(s) => out.push(s.clone()),
        Value::List(items) => items.iter().for_each(|v| collect_texts(v, out)),
        Value::Json(json) => collect_json(json, out),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn collect_json(json: &serde_json::Value, out: &mut Vec<String>) {
    match json {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Number(n) => out.push(n.to_string()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_json(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| collect_json(v, out)),
        serde_json::Value::Null | serde_json::Value::Bool(_) => {}
    }
}

/// Editor HTML as text: tags become spaces, the common entities are decoded.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// tantivy's stemmer for a `searchLanguage` name (see `basalt_core::search::LANGUAGES`).
fn language(name: &str) -> Option<Language> {
    Some(match name {
        "arabic" => Language::Arabic,
        "danish" => Language::Danish,
        "dutch" => Language::Dutch,
        "english" => Language::English,
        "finnish" => Language::Finnish,
        "french" => Language::French,
        "german" => Language::German,
        "greek" => Language::Greek,
        "hungarian" => Language::Hungarian,
        "italian" => Language::Italian,
        "norwegian" => Language::Norwegian,
        "portuguese" => Language::Portuguese,
        "romanian" => Language::Romanian,
        "russian" => Language::Russian,
        "spanish" => Language::Spanish,
        "swedish" => Language::Swedish,
        "tamil" => Language::Tamil,
        "turkish" => Language::Turkish,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_language_has_a_stemmer() {
        for name in basalt_core::search::LANGUAGES {
            assert!(language(name).is_some(), "{name}");
        }
    }

    #[test]
    fn editor_markup_is_not_indexed() {
        assert_eq!(
            strip_tags("<p>Rust &amp; <b>tantivy</b></p>").trim(),
            "Rust &  tantivy"
        );
    }

    #[test]
    fn analyzer_folds_lowercases_and_stems() {
        let mapping = Mapping {
            schema: Schema::builder().build(),
            id: Field::from_field_id(0),
            fields: Vec::new(),
            language: "english".into(),
            fingerprint: String::new(),
        };
        let mut analyzer = mapping.analyzer();
        let mut tokens = Vec::new();
        analyzer
            .token_stream("Café RUNNING Naïve")
            .process(&mut |t| tokens.push(t.text.clone()));
        assert_eq!(tokens, ["cafe", "run", "naiv"]);
    }
}
