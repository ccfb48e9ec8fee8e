//! kill -9 at random moments: every write acknowledged by `sync` survives, and the
//! store opens and is consistent afterwards.
//!
//! The parent re-runs this test binary as a child (`crash_child_process`, selected by
//! an environment variable) that creates records from several threads and prints each
//! id once `sync` returned; the parent kills it with SIGKILL, reopens the store and
//! checks every printed id.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use basalt_core::filter::Lookup;
use basalt_core::store::{RecordStore, Write};
use basalt_core::Value;
use basalt_storage::conformance::fixtures;
use rand::Rng;

const CHILD_ENV: &str = "BASALT_STORAGE_CRASH_DIR";

/// Not a test on its own: the body of the child process of the crash tests.
#[test]
fn crash_child_process() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = crate::open_sled(Path::new(&dir)).expect("child opens the store");
    let posts = Arc::new(fixtures::posts());
    if store.load_collections().unwrap().is_empty() {
        let seq = store.put_collection(None, &posts).unwrap();
        store.sync(seq).unwrap();
    }
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| loop {
                let id = basalt_core::ids::new_id();
                let views = Value::Number(rand::thread_rng().gen_range(0..100) as f64);
                let record =
                    fixtures::record(&posts, &id, &[("views", views), ("slug", Value::text(&id))]);
                let seq = store
                    .commit(vec![Write::Create {
                        collection: posts.clone(),
                        record,
                    }])
                    .unwrap();
                store.sync(seq).unwrap();
                println!("ACK {id}");
            });
        }
    });
}

/// Runs the child until it has acknowledged some writes, kills it at a random moment,
/// and returns every id it acknowledged.
fn run_and_kill(dir: &Path) -> Vec<String> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "crash::crash_child_process",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let acked = Arc::new(Mutex::new(Vec::new()));
    let stdout = child.stdout.take().unwrap();
    let reader = {
        let acked = acked.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(id) = line.strip_prefix("ACK ").filter(|id| id.len() == 15) {
                    acked.lock().unwrap().push(id.to_owned());
                }
            }
        })
    };
    let started = Instant::now();
    while acked.lock().unwrap().is_empty() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(rand::thread_rng().gen_range(0..300)));
    child.kill().expect("SIGKILL the child");
    child.wait().unwrap();
    reader.join().unwrap();
    let acked = acked.lock().unwrap().clone();
    acked
}

fn crash_repeatedly(rounds: usize) {
    let dir = tempfile::tempdir().unwrap();
    let posts = Arc::new(fixtures::posts());
    let mut all = Vec::new();
    for round in 0..rounds {
        let acked = run_and_kill(dir.path());
        assert!(
            !acked.is_empty(),
            "round {round}: the child acknowledged nothing"
        );
        all.extend(acked);
        let store = crate::open_sled(dir.path()).expect("the store opens after kill -9");
        store
            .verify()
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        for id in &all {
            assert!(
                store.get(&posts, id).unwrap().is_some(),
                "round {round}: acknowledged {id} is lost"
            );
        }
    }
    eprintln!("{} acknowledged writes survived {rounds} kills", all.len());
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    crash_repeatedly(3);
}

#[test]
#[ignore = "long: 25 kills"]
fn acknowledged_writes_survive_many_kill_9() {
    crash_repeatedly(25);
}
