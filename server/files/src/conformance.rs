//! What every `FileStore` must do; run by each backend's tests (public so the
//! integration tests of remote backends can run it).

use basalt_core::files::{ByteRange, FileStore};

/// Panics unless `store` behaves; uses keys under `pbc_1/` and `pbc_2/`.
pub fn run(store: &dyn FileStore) {
    let key = "pbc_1/rec1/a_1234567890.txt";
    assert_eq!(store.get(key, None).unwrap(), None);
    assert!(!store.exists(key).unwrap());
    store.put(key, b"hello world").unwrap();
    assert!(store.exists(key).unwrap());
    let blob = store.get(key, None).unwrap().unwrap();
    assert_eq!(blob.bytes, b"hello world");
    assert_eq!(blob.size, 11);
    let part = |start, end| {
        store
            .get(key, Some(ByteRange { start, end }))
            .unwrap()
            .unwrap()
    };
    assert_eq!(part(0, Some(4)).bytes, b"hello");
    assert_eq!(part(6, None).bytes, b"world");
    assert_eq!(part(6, Some(100)).bytes, b"world");
    assert_eq!(part(6, None).size, 11);
    store.put(key, b"replaced").unwrap();
    assert_eq!(store.get(key, None).unwrap().unwrap().bytes, b"replaced");

    store
        .put(
            "pbc_1/rec1/thumbs_a_1234567890.txt/10x10_a_1234567890.txt",
            b"t",
        )
        .unwrap();
    store.put("pbc_1/rec2/b.txt", b"b").unwrap();
    store.put("pbc_2/rec1/c.txt", b"c").unwrap();
    assert_eq!(
        store.list("pbc_1/rec1/").unwrap(),
        vec![
            "pbc_1/rec1/a_1234567890.txt".to_owned(),
            "pbc_1/rec1/thumbs_a_1234567890.txt/10x10_a_1234567890.txt".to_owned(),
        ]
    );
    assert_eq!(store.list("pbc_1/").unwrap().len(), 3);
    store.delete_prefix("pbc_1/rec1/").unwrap();
    assert!(store.list("pbc_1/rec1/").unwrap().is_empty());
    assert_eq!(
        store.list("pbc_1/").unwrap(),
        vec!["pbc_1/rec2/b.txt".to_owned()]
    );
    store.delete("pbc_1/rec2/b.txt").unwrap();
    store.delete("pbc_1/rec2/b.txt").unwrap();
    assert!(!store.exists("pbc_1/rec2/b.txt").unwrap());
    store.delete_prefix("pbc_2/").unwrap();
    assert!(store.list("pbc_2/").unwrap().is_empty());
    store.delete_prefix("pbc_missing/").unwrap();
}
