//! The sled store across reopen: everything committed and synced is there, seqs keep
//! increasing, newer formats are refused and crash leftovers are cleaned up.

use std::path::Path;
use std::sync::Arc;

use basalt_core::filter::Lookup;
use basalt_core::store::{Query, RecordStore, Write};
use basalt_core::Value;
use basalt_storage::conformance::fixtures::{self, id, record};
use basalt_storage::{SledStore, StorageError};

fn open(dir: &Path) -> SledStore {
    crate::open_sled(dir).expect("open store")
}

#[test]
fn a_reopened_store_has_everything() {
    let dir = tempfile::tempdir().unwrap();
    let users = Arc::new(fixtures::users());
    let posts = Arc::new(fixtures::posts());
    let (last, changes) = {
        let store = open(dir.path());
        store.put_collection(None, &users).unwrap();
        store.put_collection(None, &posts).unwrap();
        for n in 0..20 {
            let r = record(
                &posts,
                &id(n),
                &[
                    ("views", Value::Number(n as f64)),
                    ("tags", fixtures::texts(&[&id(99)])),
                ],
            );
            store
                .commit(vec![Write::Create {
                    collection: posts.clone(),
                    record: r,
                }])
                .unwrap();
        }
        let old = store.get(&posts, &id(3)).unwrap().unwrap();
        store
            .commit(vec![Write::Delete {
                collection: posts.clone(),
                old,
            }])
            .unwrap();
        let seq = store
            .commit(vec![Write::Create {
                collection: users.clone(),
                record: record(&users, &id(99), &[]),
            }])
            .unwrap();
        store.sync(seq).unwrap();
        (seq, store.changes_since(0, 100).unwrap())
    };
    let store = open(dir.path());
    store.verify().unwrap();
    let loaded = store.load_collections().unwrap();
    assert_eq!(
        loaded.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        [fixtures::POSTS, fixtures::USERS]
    );
    assert_eq!(loaded[0].fields, posts.fields);
    assert_eq!(store.changes_since(0, 100).unwrap(), changes);
    let page = store
        .query(
            &posts,
            &Query {
                limit: 100,
                count_total: true,
                ..Query::default()
            },
        )
        .unwrap();
    assert_eq!(page.total, Some(19));
    let want: Vec<String> = (0..20).filter(|&n| n != 3).map(id).collect();
    assert_eq!(
        page.records
            .iter()
            .map(|r| r.id().to_owned())
            .collect::<Vec<_>>(),
        want,
        "insertion order survives"
    );
    let tags = posts.field_pos("tags").unwrap();
    assert_eq!(store.referencing(&posts, tags, &id(99)).unwrap().len(), 19);
    let next = store
        .commit(vec![Write::Create {
            collection: users.clone(),
            record: record(&users, &id(98), &[]),
        }])
        .unwrap();
    assert!(next > last, "seqs keep increasing across reopen");
}

#[test]
fn a_newer_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    {
        let db = crate::open_raw(dir.path());
        db.open_tree("meta")
            .unwrap()
            .insert("format", &99u32.to_be_bytes())
            .unwrap();
        db.flush().unwrap();
    }
    let Err(e) = crate::open_sled(dir.path()) else {
        panic!("opened a newer format")
    };
    assert!(
        matches!(
            e,
            StorageError::NewerFormat {
                found: 99,
                supported: 3
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("newer"), "{e}");
}

#[test]
fn trees_left_by_a_crash_are_dropped_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let posts = Arc::new(fixtures::posts());
    {
        let store = open(dir.path());
        store.put_collection(None, &posts).unwrap();
        let r = record(&posts, &id(1), &[("slug", Value::text("s"))]);
        let seq = store
            .commit(vec![Write::Create {
                collection: posts.clone(),
                record: r,
            }])
            .unwrap();
        store.sync(seq).unwrap();
    }
    let orphans = [
        "i/pbc_posts/half_built/0000000000000001",
        "r/pbc_deleted",
        "x/pbc_deleted/f_tags",
    ];
    {
        let db = crate::open_raw(dir.path());
        for name in orphans {
            db.open_tree(name).unwrap().insert("k", "v").unwrap();
        }
        db.flush().unwrap();
    }
    {
        let store = open(dir.path());
        store.verify().unwrap();
        assert!(store.get(&posts, &id(1)).unwrap().is_some());
    }
    let db = crate::open_raw(dir.path());
    let names: Vec<Vec<u8>> = db.tree_names().iter().map(|n| n.to_vec()).collect();
    for name in orphans {
        assert!(
            !names.contains(&name.as_bytes().to_vec()),
            "{name} survived"
        );
    }
    assert!(names.contains(&b"r/pbc_posts".to_vec()));
}
