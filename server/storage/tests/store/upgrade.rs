//! Upgrades: a data directory written by an earlier build (the committed fixtures of
//! each earlier format, `tests/fixtures/format-<n>`) opens, reads back every record and
//! verifies; one from a newer build is refused with a message that says what to do.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use basalt_core::filter::Lookup;
use basalt_core::store::{RecordStore, Write};
use basalt_core::Value;
use basalt_storage::conformance::fixtures;
use basalt_storage::{SledOptions, SledStore, StorageError};

/// The formats of earlier builds with a committed fixture.
const FORMATS: &[u32] = &[1, 2];

fn fixture(format: u32) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/format-{format}"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

const USERS: usize = 20;
const POSTS: usize = 50;

/// What the fixture holds: users with names, posts pointing at them.
fn fill(store: &SledStore) {
    let users = Arc::new(fixtures::users());
    let posts = Arc::new(fixtures::posts());
    store.put_collection(None, &users).unwrap();
    store.put_collection(None, &posts).unwrap();
    let mut last = 0;
    for n in 0..USERS {
        let r = fixtures::record(
            &users,
            &fixtures::id(n),
            &[("name", Value::text(format!("user {n}")))],
        );
        last = store
            .commit(vec![Write::Create {
                collection: users.clone(),
                record: r,
            }])
            .unwrap();
    }
    for n in 0..POSTS {
        let r = fixtures::record(
            &posts,
            &fixtures::id(1000 + n),
            &[
                ("title", Value::text(format!("post {n}"))),
                ("views", Value::Number(n as f64)),
                ("slug", Value::text(format!("slug-{n}"))),
                ("author", Value::text(fixtures::id(n % USERS))),
            ],
        );
        last = store
            .commit(vec![Write::Create {
                collection: posts.clone(),
                record: r,
            }])
            .unwrap();
    }
    store.sync(last).unwrap();
}

/// Writes the fixture of the current format (run once per format, then commit it and
/// add the format to [`FORMATS`] once the next format exists):
/// `BASALT_WRITE_FIXTURE=<format> cargo test -p basalt-storage --test store write_format_fixture`.
#[test]
fn write_format_fixture() {
    let Some(format) = std::env::var("BASALT_WRITE_FIXTURE")
        .ok()
        .and_then(|f| f.parse().ok())
    else {
        return;
    };
    let dir = fixture(format);
    let _ = std::fs::remove_dir_all(&dir);
    let store = SledStore::open(
        &dir,
        SledOptions {
            cache_capacity_bytes: 1 << 20,
            ..SledOptions::default()
        },
    )
    .unwrap();
    fill(&store);
    store.close().unwrap();
}

#[test]
fn directories_from_earlier_formats_open_and_read_back() {
    for format in FORMATS {
        reads_back(*format);
    }
}

fn reads_back(format: u32) {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&fixture(format), tmp.path());
    let store = crate::open_sled(tmp.path()).unwrap();
    store.verify().unwrap();
    let collections = store.load_collections().unwrap();
    let names: Vec<&str> = collections.iter().map(|c| c.name.as_str()).collect();
    assert!(
        names.contains(&"users") && names.contains(&"posts"),
        "{names:?}"
    );
    let users = fixtures::users();
    let posts = collections
        .iter()
        .find(|c| c.name == "posts")
        .unwrap()
        .clone();
    for n in 0..USERS {
        let r = store
            .get(&users, &fixtures::id(n))
            .unwrap()
            .expect("user survives");
        assert_eq!(
            r.get(&users, "name").and_then(Value::as_str),
            Some(format!("user {n}").as_str())
        );
    }
    let mut count = 0;
    store
        .scan(&posts, &mut |_| {
            count += 1;
            true
        })
        .unwrap();
    assert_eq!(count, POSTS);
    // Writes keep working, and the indexes built by the old build still enforce.
    let posts = Arc::new(posts);
    let dup = fixtures::record(
        &posts,
        &fixtures::id(5000),
        &[("slug", Value::text("slug-3"))],
    );
    assert!(store
        .commit(vec![Write::Create {
            collection: posts.clone(),
            record: dup
        }])
        .is_err());
}

#[test]
fn a_directory_from_a_newer_format_is_refused_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&fixture(1), tmp.path());
    {
        let db = crate::open_raw(tmp.path());
        db.open_tree("meta")
            .unwrap()
            .insert("format", &99u32.to_be_bytes())
            .unwrap();
        db.flush().unwrap();
    }
    let Err(e) = crate::open_sled(tmp.path()) else {
        panic!("opened a newer format")
    };
    assert!(
        matches!(e, StorageError::NewerFormat { found: 99, .. }),
        "{e}"
    );
    let msg = e.to_string();
    assert!(msg.contains("newer Basalt") && msg.contains("99"), "{msg}");
}
