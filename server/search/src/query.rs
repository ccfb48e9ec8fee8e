//! The `search` parameter → a tantivy query. The syntax is tantivy's query grammar
//! (terms, `"phrases"`, `AND`/`OR`/`NOT`, `+`/`-`, parentheses, `^boost`) narrowed
//! to what a search box needs: terms are required by default (all must match);
//! `rust*` matches words starting with `rust`; `title:rust` searches one searchable
//! field. Ranges, sets, `*` alone and unknown fields are 400s.

use basalt_core::schema::Collection;
use basalt_core::search::SearchQuery;
use basalt_core::{Code, Error, Result};
use tantivy::query::{
    BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhrasePrefixQuery, PhraseQuery, Query,
    TermQuery,
};
use tantivy::query_grammar::{self, Delimiter, UserInputAst, UserInputLeaf, UserInputLiteral};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::Term;

use crate::mapping::{MappedField, Mapping};

/// The most terms and phrases one search may hold.
pub const MAX_SEARCH_TERMS: usize = 32;

/// The shortest prefix `word*` accepts, in characters.
pub const MIN_PREFIX_CHARS: usize = 2;

/// The most words a phrase prefix (`"big bad wo"*`) expands its last word to.
const MAX_PREFIX_EXPANSIONS: u32 = 50;

fn invalid(message: impl Into<String>) -> Error {
    Error::new(Code::InvalidSearch, message)
}

/// The fields of `mapping` that `query`'s caller may search in `collection` as it is
/// now (a field renamed or dropped since the index was built is not searched).
pub(crate) fn searchable<'m>(
    mapping: &'m Mapping,
    collection: &Collection,
    query: &SearchQuery<'_>,
) -> Vec<&'m MappedField> {
    mapping
        .fields
        .iter()
        .filter(|m| {
            collection
                .field(&m.name)
                .is_some_and(|f| f.kind.searchable() && query.may_search(collection, f))
        })
        .collect()
}

/// Parses the search for an index with `mapping`. `None` when the input holds no word
/// that survives tokenization (nothing can match).
pub(crate) fn parse(
    mapping: &Mapping,
    collection: &Collection,
    query: &SearchQuery<'_>,
) -> Result<Option<Box<dyn Query>>> {
    let ast = query_grammar::parse_query(query.text)
        .map_err(|_| invalid("Invalid search query syntax."))?;
    let mut builder = Builder {
        fields: searchable(mapping, collection, query),
        analyzer: mapping.analyzer(),
        terms: 0,
    };
    builder.build(ast)
}

struct Builder<'a> {
    fields: Vec<&'a MappedField>,
    analyzer: TextAnalyzer,
    terms: usize,
}

impl Builder<'_> {
    fn build(&mut self, ast: UserInputAst) -> Result<Option<Box<dyn Query>>> {
        match ast {
            UserInputAst::Clause(clauses) => {
                let mut parts = Vec::with_capacity(clauses.len());
                for (occur, clause) in clauses {
                    if let Some(q) = self.build(clause)? {
                        parts.push((occur.map(occur_of).unwrap_or(Occur::Must), q));
                    }
                }
                if parts.iter().all(|(o, _)| *o == Occur::MustNot) {
                    // Only exclusions match nothing; say so rather than return nothing.
                    return match parts.is_empty() {
                        true => Ok(None),
                        false => Err(invalid(
                            "A search needs at least one term that is not excluded.",
                        )),
                    };
                }
                Ok(Some(match parts.len() {
                    1 if parts[0].0 != Occur::MustNot => parts.remove(0).1,
                    _ => Box::new(BooleanQuery::new(parts)),
                }))
            }
            UserInputAst::Boost(inner, boost) => Ok(self
                .build(*inner)?
                .map(|q| Box::new(BoostQuery::new(q, boost as f32)) as _)),
            UserInputAst::Leaf(leaf) => match *leaf {
                UserInputLeaf::Literal(literal) => self.literal(literal),
                _ => Err(invalid(
                    "Unsupported search syntax: use words, \"phrases\", word* and field:word.",
                )),
            },
        }
    }

    fn literal(&mut self, mut literal: UserInputLiteral) -> Result<Option<Box<dyn Query>>> {
        // The grammar keeps the `*` of an unquoted `word*` in the word.
        if matches!(literal.delimiter, Delimiter::None) {
            if let Some(word) = literal.phrase.strip_suffix('*') {
                literal.phrase = word.to_owned();
                literal.prefix = true;
            }
        }
        self.terms += 1;
        if self.terms > MAX_SEARCH_TERMS {
            return Err(invalid(format!(
                "A search may hold at most {MAX_SEARCH_TERMS} terms."
            )));
        }
        let fields: Vec<Field> = match &literal.field_name {
            Some(name) => {
                let Some(f) = self.fields.iter().find(|f| f.name == *name) else {
                    return Err(invalid(format!(
                        "Unknown search field \"{name}\"; searchable fields: {}.",
                        self.field_names()
                    )));
                };
                vec![f.field]
            }
            None => self.fields.iter().map(|f| f.field).collect(),
        };
        let mut per_field = Vec::new();
        for field in fields {
            if let Some(q) = self.field_query(field, &literal)? {
                per_field.push((Occur::Should, q));
            }
        }
        Ok(match per_field.len() {
            0 => None,
            1 => Some(per_field.remove(0).1),
            _ => Some(Box::new(BooleanQuery::new(per_field))),
        })
    }

    /// The literal as a query on one field: a term, a phrase, or a prefix.
    fn field_query(
        &mut self,
        field: Field,
        literal: &UserInputLiteral,
    ) -> Result<Option<Box<dyn Query>>> {
        let mut terms: Vec<(usize, Term)> = Vec::new();
        self.analyzer
            .token_stream(&literal.phrase)
            .process(&mut |t| terms.push((t.position, Term::from_field_text(field, &t.text))));
        if literal.prefix {
            let chars = literal.phrase.trim().chars().count();
            if terms.len() == 1 && chars < MIN_PREFIX_CHARS {
                return Err(invalid(format!(
                    "A prefix search needs at least {MIN_PREFIX_CHARS} characters before *."
                )));
            }
        }
        Ok(match (terms.len(), literal.prefix) {
            (0, _) => None,
            // Edit distance 0 with the prefix flag: every word starting with the term.
            (1, true) => Some(Box::new(FuzzyTermQuery::new_prefix(
                terms.remove(0).1,
                0,
                true,
            ))),
            (1, false) => Some(Box::new(TermQuery::new(
                terms.remove(0).1,
                IndexRecordOption::WithFreqs,
            ))),
            (_, true) => {
                let mut q = PhrasePrefixQuery::new_with_offset(terms);
                q.set_max_expansions(MAX_PREFIX_EXPANSIONS);
                Some(Box::new(q))
            }
            (_, false) => Some(Box::new(PhraseQuery::new_with_offset_and_slop(
                terms,
                literal.slop,
            ))),
        })
    }

    fn field_names(&self) -> String {
        let names: Vec<_> = self.fields.iter().map(|f| f.name.as_str()).collect();
        names.join(", ")
    }
}

fn occur_of(o: query_grammar::Occur) -> Occur {
    match o {
        query_grammar::Occur::Should => Occur::Should,
        query_grammar::Occur::Must => Occur::Must,
        query_grammar::Occur::MustNot => Occur::MustNot,
    }
}
