//! Exports are consistent while writes go on: every record of the export is exactly
//! the state at its seq, and an import rebuilds a store that verifies.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use basalt_core::filter::Lookup;
use basalt_core::store::{RecordStore, Write};
use basalt_core::Value;
use basalt_storage::conformance::fixtures;
use basalt_storage::{SledOptions, SledStore};

/// Writers create, update and delete while an export runs; the import must equal the
/// store replayed up to the export's seq, which we know because every write records
/// its seq and effect.
#[test]
fn export_under_concurrent_writes_is_a_point_in_time_snapshot() {
    let store = Arc::new(crate::temp_sled());
    let users = Arc::new(fixtures::users());
    store.put_collection(None, &users).unwrap();
    for n in 0..3000 {
        let r = fixtures::record(
            &users,
            &fixtures::id(n),
            &[("name", Value::text(format!("v0-{n}")))],
        );
        store
            .commit(vec![Write::Create {
                collection: users.clone(),
                record: r,
            }])
            .unwrap();
    }
    // (seq, id, Some(name) | None for delete)
    let log = Arc::new(parking_lot::Mutex::new(
        Vec::<(u64, String, Option<String>)>::new(),
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicUsize::new(3000));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (store, users, log, stop, next) = (
                store.clone(),
                users.clone(),
                log.clone(),
                stop.clone(),
                next.clone(),
            );
            std::thread::spawn(move || {
                let mut i = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let n = (i * 31 + w * 1000) % 3000;
                    let id = fixtures::id(n);
                    let Ok(Some(old)) = store.get(&users, &id) else {
                        let m = next.fetch_add(1, Ordering::Relaxed);
                        let id = fixtures::id(m);
                        let name = format!("new-{m}");
                        let r =
                            fixtures::record(&users, &id, &[("name", Value::text(name.clone()))]);
                        if let Ok(seq) = store.commit(vec![Write::Create {
                            collection: users.clone(),
                            record: r,
                        }]) {
                            log.lock().push((seq, id, Some(name)));
                        }
                        continue;
                    };
                    let write = if i.is_multiple_of(5) {
                        Write::Delete {
                            collection: users.clone(),
                            old,
                        }
                    } else {
                        let name = format!("w{w}-{i}");
                        let new = fixtures::record(&users, &id, &[("name", Value::text(name))]);
                        Write::Update {
                            collection: users.clone(),
                            old,
                            new,
                        }
                    };
                    let effect = match &write {
                        Write::Update { new, .. } => new
                            .get(&users, "name")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                        _ => None,
                    };
                    if let Ok(seq) = store.commit(vec![write]) {
                        log.lock().push((seq, id, effect));
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(50));
    let mut dump = Vec::new();
    let info = store.export(&mut dump).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(50));
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    let writes_during = log.lock().iter().filter(|(s, _, _)| *s > info.seq).count();
    assert!(writes_during > 0, "no write raced the export");

    // The expected state: the initial records, then every logged write up to the seq.
    let mut expected: std::collections::BTreeMap<String, String> = (0..3000)
        .map(|n| (fixtures::id(n), format!("v0-{n}")))
        .collect();
    let mut entries = log.lock().clone();
    entries.sort();
    for (seq, id, effect) in entries {
        if seq > info.seq {
            break;
        }
        match effect {
            Some(name) => expected.insert(id, name),
            None => expected.remove(&id),
        };
    }
    let dir = tempfile::tempdir().unwrap();
    let (imported, again) = SledStore::import(
        &dir.path().join("store"),
        &mut dump.as_slice(),
        SledOptions::default(),
    )
    .unwrap();
    assert_eq!(again, info);
    let mut got = std::collections::BTreeMap::new();
    imported
        .scan(&users, &mut |r| {
            let name = r
                .get(&users, "name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            got.insert(r.id().to_owned(), name.to_owned());
            true
        })
        .unwrap();
    if got != expected {
        let all = log.lock().clone();
        for (id, name) in got
            .iter()
            .filter(|(id, _)| !expected.contains_key(*id))
            .take(5)
        {
            let hist: Vec<_> = all.iter().filter(|(_, i, _)| i == id).collect();
            eprintln!("extra {id}={name} seq={} history {hist:?}", info.seq);
        }
        for (id, name) in expected
            .iter()
            .filter(|(id, _)| !got.contains_key(*id))
            .take(5)
        {
            let hist: Vec<_> = all.iter().filter(|(_, i, _)| i == id).collect();
            eprintln!("missing {id}={name} history {hist:?}");
        }
        for (id, name) in got
            .iter()
            .filter(|(id, n)| expected.get(*id).is_some_and(|e| e != *n))
            .take(5)
        {
            let hist: Vec<_> = all.iter().filter(|(_, i, _)| i == id).collect();
            eprintln!(
                "differs {id}={name} vs {:?} history {hist:?}",
                expected.get(id)
            );
        }
    }
    assert_eq!(got.len(), expected.len());
    assert_eq!(got, expected);
    assert_eq!(info.records as usize, expected.len());
}

#[test]
fn truncated_or_foreign_dumps_are_refused() {
    let store = crate::temp_sled();
    let users = Arc::new(fixtures::users());
    store.put_collection(None, &users).unwrap();
    for n in 0..10 {
        let r = fixtures::record(&users, &fixtures::id(n), &[]);
        store
            .commit(vec![Write::Create {
                collection: users.clone(),
                record: r,
            }])
            .unwrap();
    }
    let mut dump = Vec::new();
    store.export(&mut dump).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = &dump[..dump.len() - 20];
    let err = SledStore::import(&dir.path().join("a"), &mut &cut[..], SledOptions::default())
        .err()
        .unwrap();
    assert!(err.to_string().contains("dump"), "{err}");
    let err = SledStore::import(
        &dir.path().join("b"),
        &mut &b"PK\x03\x04 not a dump"[..],
        SledOptions::default(),
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("not a Basalt store dump"), "{err}");
}

/// Figures, not a check: `cargo test --release -p basalt-storage --test store
/// export_figures -- --ignored --nocapture`.
#[test]
#[ignore]
fn export_figures() {
    let store = crate::temp_sled();
    let users = Arc::new(fixtures::users());
    store.put_collection(None, &users).unwrap();
    let n = 100_000;
    let batch: Vec<Write> = (0..n)
        .map(|i| Write::Create {
            collection: users.clone(),
            record: fixtures::record(
                &users,
                &format!("r{i:014}"),
                &[("name", Value::text(format!("name {i}")))],
            ),
        })
        .collect();
    for chunk in batch.chunks(1000) {
        store.commit(chunk.to_vec()).unwrap();
    }
    let started = std::time::Instant::now();
    let mut dump = Vec::new();
    let info = store.export(&mut dump).unwrap();
    let exported = started.elapsed();
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    SledStore::import(
        &dir.path().join("s"),
        &mut dump.as_slice(),
        SledOptions::default(),
    )
    .unwrap();
    eprintln!(
        "export of {} records: {exported:?}, {} bytes; import + index rebuild + verify: {:?}",
        info.records,
        dump.len(),
        started.elapsed()
    );
}
