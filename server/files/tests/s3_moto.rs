//! `S3FileStore` against a real S3-compatible server on loopback: moto's server
//! (`pip install 'moto[server]'`). Skipped, saying so, when `moto_server` is not
//! installed.

use basalt_core::files::{ByteRange, FileStore};
use basalt_core::settings::S3;
use basalt_files::S3FileStore;

#[test]
fn s3_store_passes_the_conformance_suite_against_moto() {
    let Some((_moto, port)) = basalt_files::conformance::Moto::start("basalt-test") else {
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
