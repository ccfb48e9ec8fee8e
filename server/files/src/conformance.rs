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

    // A file streamed in: larger than one multipart part, not a multiple of it.
    let big: Vec<u8> = (0..(9 * 1024 * 1024 + 7))
        .map(|i| (i % 251) as u8)
        .collect();
    let file = std::env::temp_dir().join(format!("basalt-conformance-{}", std::process::id()));
    std::fs::write(&file, &big).unwrap();
    let streamed = "pbc_1/rec1/big_1234567890.bin";
    store.put_file(streamed, &file).unwrap();
    let _ = std::fs::remove_file(&file);
    let got = store.get(streamed, None).unwrap().unwrap();
    assert_eq!(got.size, big.len() as u64);
    assert!(got.bytes == big, "the streamed file differs");
    store.delete(streamed).unwrap();

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

/// moto's S3 server (`pip install 'moto[server]'`) on a free loopback port, with one
/// bucket; killed when dropped. For the S3 tests of this crate and of the binary.
pub struct Moto(std::process::Child);

impl Moto {
    /// Starts the server and creates `bucket`; `None` when `moto_server` is not
    /// installed or does not come up within 30 s.
    pub fn start(bucket: &str) -> Option<(Moto, u16)> {
        use std::process::{Command, Stdio};
        use std::time::{Duration, Instant};
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let moto = Moto(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        let create = format!(
            "PUT /{bucket} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        while Instant::now() < deadline {
            if let Some(reply) = raw_request(port, &create) {
                if reply.starts_with("HTTP/1.1 200") || reply.starts_with("HTTP/1.0 200") {
                    return Some((moto, port));
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        None
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn raw_request(port: u16, request: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok()?;
    stream.write_all(request.as_bytes()).ok()?;
    let mut out = String::new();
    let _ = stream.read_to_string(&mut out);
    Some(out)
}
