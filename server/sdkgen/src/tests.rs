use serde_json::json;

use crate::{generate, Error, FieldType, Lang, Options, Schema};

/// The fixture schema as `GET /api/collections` serves it (system fields included).
const FIXTURE: &str = include_str!("../../../sdk/fixture/schema.json");

fn fixture() -> Schema {
    Schema::from_json(&serde_json::from_str(FIXTURE).unwrap()).unwrap()
}

fn file<'a>(files: &'a [crate::File], path: &str) -> &'a str {
    &files.iter().find(|f| f.path == path).unwrap().contents
}

#[test]
fn schema_sorts_collections_and_resolves_relation_targets() {
    let s = fixture();
    let names: Vec<&str> = s.collections.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["_superusers", "members", "posts", "tags"]);
    let posts = s.collection("posts").unwrap();
    let author = posts.field("author").unwrap();
    assert_eq!(author.target.as_deref(), Some("members"));
    assert!(!author.multi);
    assert!(posts.field("tags").unwrap().multi);
    assert_eq!(posts.field("status").unwrap().ty, FieldType::Select);
}

#[test]
fn schema_leaves_out_system_collections_but_superusers() {
    let json = json!({"items": [
        {"name": "_otps", "system": true, "type": "base", "fields": []},
        {"name": "_superusers", "system": true, "type": "auth", "fields": []},
        {"name": "a", "type": "base", "fields": [
            {"name": "r", "type": "relation", "collectionId": "otps_id", "maxSelect": 1}
        ]},
    ]});
    let s = Schema::from_json(&json).unwrap();
    let names: Vec<&str> = s.collections.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["_superusers", "a"]);
    // A relation into a collection outside the schema has no typed target.
    assert_eq!(s.collections[1].fields[0].target, None);
}

#[test]
fn schema_rejects_unknown_field_types_and_shapes() {
    let bad = json!([{"name": "a", "fields": [{"name": "x", "type": "geoPoint"}]}]);
    assert_eq!(
        Schema::from_json(&bad),
        Err(Error::Schema(
            "field \"a.x\" has an unknown type \"geoPoint\"".into()
        ))
    );
    assert!(Schema::from_json(&json!("nope")).is_err());
    assert!(Schema::from_json(&json!([{"name": "a"}])).is_err());
}

#[test]
fn lang_parses_and_unknown_lang_is_an_error() {
    assert_eq!("typescript".parse::<Lang>(), Ok(Lang::TypeScript));
    assert_eq!("Rust".parse::<Lang>(), Ok(Lang::Rust));
    assert_eq!("go".parse::<Lang>(), Err(Error::UnknownLang("go".into())));
}

#[test]
fn output_is_deterministic_for_reordered_input() {
    let mut json: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
    let a = Schema::from_json(&json).unwrap();
    json["items"].as_array_mut().unwrap().reverse();
    let b = Schema::from_json(&json).unwrap();
    for lang in [Lang::TypeScript, Lang::Rust] {
        assert_eq!(
            generate(&a, lang, &Options::default()),
            generate(&b, lang, &Options::default())
        );
    }
}

#[test]
fn typescript_shapes_follow_field_types() {
    let files = generate(&fixture(), Lang::TypeScript, &Options::default());
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["client.ts", "runtime.ts"]);
    let ts = file(&files, "client.ts");
    // Read shape.
    for line in [
        "  title: string;\n",
        "  views: number;\n",
        "  published: boolean;\n",
        "  status: \"draft\" | \"published\" | \"in review\" | '';\n",
        "  labels: Array<\"news\" | \"tech\">;\n",
        "  meta: JsonValue;\n",
        "  author: string;\n",
        "  tags: string[];\n",
        "  cover: string;\n",
        "  attachments: string[];\n",
        "  secret?: string;\n",
        "  collectionName: \"posts\";\n",
        "  expand?: PostsExpand;\n",
        "  author?: MembersRecord;\n",
        "  tags?: TagsRecord[];\n",
    ] {
        assert!(ts.contains(line), "missing {line:?}");
    }
    let create = section(ts, "export interface PostsCreate {");
    assert!(create.contains("  title: string;\n"));
    assert!(create.contains("  id?: string;\n"));
    assert!(create.contains("  cover?: File | Blob;\n"));
    assert!(create.contains("  attachments?: Array<File | Blob>;\n"));
    assert!(create.contains("  status?: \"draft\" | \"published\" | \"in review\";\n"));
    assert!(!create.contains("created"));
    let update = section(ts, "export interface PostsUpdate {");
    assert!(update.contains("  title?: string;\n"));
    assert!(update.contains("  cover?: File | Blob | null;\n"));
    assert!(update.contains("  \"attachments+\"?: Array<File | Blob>;\n"));
    assert!(!update.contains("  id?"));
    let members_read = section(ts, "export interface MembersRecord {");
    assert!(members_read.contains("  email?: string;\n"));
    assert!(!members_read.contains("password"));
    assert!(!members_read.contains("tokenKey"));
    let members_create = section(ts, "export interface MembersCreate {");
    assert!(members_create.contains("  email: string;\n"));
    assert!(members_create.contains("  password: string;\n  passwordConfirm: string;\n"));
    assert!(ts.contains(
        "  readonly members: AuthRecordService<MembersRecord, MembersCreate, MembersUpdate, MembersSort, MembersExpandKey>;\n"
    ));
    assert!(ts.contains("  readonly posts: RecordService<PostsRecord,"));
}

/// The lines of `text` from `start` to the next closing brace at column 0.
fn section<'a>(text: &'a str, start: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| panic!("no {start}"));
    let len = text[from..].find("\n}\n").unwrap();
    &text[from..from + len + 1]
}

#[test]
fn rust_crate_stands_alone_with_typed_structs() {
    let options = Options {
        crate_name: "my-client".into(),
    };
    let files = generate(&fixture(), Lang::Rust, &options);
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "Cargo.toml",
            "src/lib.rs",
            "src/realtime.rs",
            "src/runtime.rs"
        ]
    );
    let cargo = file(&files, "Cargo.toml");
    assert!(cargo.contains("name = \"my-client\"\n"));
    assert!(cargo.contains("\n[workspace]\n"));
    let rs = file(&files, "src/lib.rs");
    let read = section(rs, "pub struct PostsRecord {");
    assert!(read.contains("    pub views: f64,\n"));
    assert!(read.contains("    pub status: Option<PostsStatus>,\n"));
    assert!(read.contains("    pub labels: Vec<PostsLabels>,\n"));
    assert!(read.contains("    pub meta: serde_json::Value,\n"));
    assert!(read.contains("    pub secret: Option<String>,\n"));
    assert!(read.contains(
        "    #[serde(rename = \"collectionId\", default)]\n    pub collection_id: String,\n"
    ));
    let status = section(rs, "pub enum PostsStatus {");
    assert!(status.contains("    #[serde(rename = \"in review\")]\n    InReview,\n"));
    let expand = section(rs, "pub struct PostsExpand {");
    assert!(expand.contains("    pub author: Option<Box<MembersRecord>>,\n"));
    assert!(expand.contains("    pub tags: Option<Vec<TagsRecord>>,\n"));
    let create = section(rs, "pub struct PostsCreate {");
    assert!(create.contains("    pub title: String,\n"));
    assert!(create.contains("    #[serde(skip)]\n    pub cover: Option<FileUpload>,\n"));
    assert!(create.contains("    pub attachments: Vec<FileUpload>,\n"));
    let update = section(rs, "pub struct PostsUpdate {");
    assert!(update.contains("    pub attachments_append: Vec<FileUpload>,\n"));
    assert!(update.contains("    #[serde(rename = \"attachments-\", skip_serializing_if = \"Vec::is_empty\")]\n    pub attachments_remove: Vec<String>,\n"));
    let members_create = section(rs, "pub struct MembersCreate {");
    assert!(members_create.contains("    pub password: String,\n"));
    assert!(members_create.contains(
        "    #[serde(rename = \"passwordConfirm\")]\n    pub password_confirm: String,\n"
    ));
    assert!(rs.contains(
        "    pub fn members(&self) -> AuthService<MembersRecord, MembersCreate, MembersUpdate> {\n"
    ));
    assert!(rs.contains("    pub fn posts_create(&mut self, body: &PostsCreate) -> &mut Self {\n"));
}

#[test]
fn names_become_valid_identifiers() {
    let json = json!([
        {"name": "blog_posts", "type": "base", "fields": [
            {"name": "type", "type": "text"},
            {"name": "2fa", "type": "select", "values": ["a-b", "A b", "1"], "maxSelect": 1},
        ]},
        {"name": "batch", "type": "view", "fields": [{"name": "n", "type": "number"}]},
    ]);
    let s = Schema::from_json(&json).unwrap();
    let ts = generate(&s, Lang::TypeScript, &Options::default());
    let client = file(&ts, "client.ts");
    assert!(client.contains("  readonly blogPosts: RecordService<BlogPostsRecord,"));
    // `batch` is a client method: the accessor gets a suffix.
    assert!(
        client.contains("  readonly batch2: RecordService<BatchRecord, BatchCreate, BatchUpdate,")
    );
    assert!(client.contains("export type BatchCreate = never;\n"));
    assert!(client.contains("  \"2fa\": \"a-b\" | \"A b\" | \"1\" | '';\n"));
    let rs = generate(&s, Lang::Rust, &Options::default());
    let lib = file(&rs, "src/lib.rs");
    assert!(lib.contains("    pub type_: String,\n"));
    assert!(lib.contains("    #[serde(rename = \"2fa\", default, deserialize_with = \"runtime::empty_as_none\")]\n    pub f_2fa: Option<BlogPostsC2fa>,\n"));
    assert!(lib.contains("    AB,\n    #[serde(rename = \"A b\")]\n    AB2,\n    #[serde(rename = \"1\")]\n    C1,\n"));
    assert!(lib.contains("pub type BatchCreate = runtime::ReadOnly;\n"));
    assert!(lib.contains(
        "    pub fn batch2(&self) -> RecordService<BatchRecord, BatchCreate, BatchUpdate> {\n"
    ));
}
/// The committed output for the fixture schema (`sdk/fixture/generated/`) is what the
/// generator writes now; `UPDATE_SDK_FIXTURE=1 cargo test -p basalt-sdkgen` rewrites it.
#[test]
fn committed_fixture_output_is_fresh() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sdk/fixture/generated");
    let update = std::env::var_os("UPDATE_SDK_FIXTURE").is_some();
    for (lang, dir) in [(Lang::TypeScript, "typescript"), (Lang::Rust, "rust")] {
        for f in generate(&fixture(), lang, &Options::default()) {
            let path = root.join(dir).join(&f.path);
            if update {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &f.contents).unwrap();
                continue;
            }
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                committed == f.contents,
                "{} is stale: run UPDATE_SDK_FIXTURE=1 cargo test -p basalt-sdkgen",
                path.display()
            );
        }
    }
}
