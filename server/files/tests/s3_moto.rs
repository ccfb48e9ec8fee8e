//! `S3FileStore` against a real S3-compatible server on loopback: moto's server
//! (`pip install 'moto[server]'`). Skipped, saying so, when `moto_server` is not
//! installed.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use basalt_core::files::{ByteRange, FileStore};
use basalt_core::settings::S3;
use basalt_files::S3FileStore;

struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn raw_request(port: u16, request: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream.write_all(request.as_bytes()).ok()?;
    let mut out = String::new();
    let _ = stream.read_to_string(&mut out);
    Some(out)
}

fn start_moto() -> Option<(Moto, u16)> {
    let port = TcpListener::bind("127.0.0.1:0")
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
    while Instant::now() < deadline {
        let create = format!(
            "PUT /basalt-test HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        if let Some(reply) = raw_request(port, &create) {
            if reply.starts_with("HTTP/1.1 200") || reply.starts_with("HTTP/1.0 200") {
                return Some((moto, port));
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    None
}

#[test]
fn s3_store_passes_the_conformance_suite_against_moto() {
    let Some((_moto, port)) = start_moto() else {
        eprintln!("skipped: moto_server is not installed (pip install 'moto[server]')");
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let s3 = S3 {
        enabled: true,
        bucket: "basalt-test".into(),
        region: "us-east-1".into(),
        endpoint: format!("http://127.0.0.1:{port}"),
        access_key: "test".into(),
        secret: "test".into(),
        force_path_style: true,
    };
    let store = S3FileStore::open(&s3, runtime.handle().clone()).unwrap();
    basalt_files::conformance::run(&store);
    // Keys that could escape are refused before any request.
    for key in ["../x", "a/../../x", "/abs", ""] {
        assert!(store.put(key, b"x").is_err(), "{key}");
    }
    store.put("pbc_1/r/big.bin", &vec![7u8; 100_000]).unwrap();
    let part = store
        .get(
            "pbc_1/r/big.bin",
            Some(ByteRange {
                start: 99_990,
                end: None,
            }),
        )
        .unwrap()
        .unwrap();
    assert_eq!(part.bytes, vec![7u8; 10]);
    assert_eq!(part.size, 100_000);
}
