//! `GET /api/sdk/{lang}`: the generated client of the live schema as a zip.

use std::io::Read;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::kit::TestServer;

#[tokio::test]
async fn the_generated_sdk_downloads_as_a_zip_for_superusers() {
    let s = TestServer::start().await;
    s.create_collection(json!({
        "name": "posts",
        "fields": [
            {"name": "title", "type": "text", "required": true},
            {"name": "status", "type": "select", "values": ["draft", "live"], "maxSelect": 1},
        ],
    }))
    .await;
    let (status, body) = s
        .call_as(None, Method::GET, "/api/sdk/typescript", None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = s.call(Method::GET, "/api/sdk/cobol", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("cobol"),
        "{body}"
    );

    for (lang, file, expect) in [
        (
            "typescript",
            "basalt-sdk-typescript/client.ts",
            "status?: \"draft\" | \"live\"",
        ),
        ("rust", "basalt-sdk-rust/src/lib.rs", "pub struct Posts"),
    ] {
        let resp = s
            .client
            .get(format!("{}/api/sdk/{lang}", s.url))
            .header("Authorization", &s.token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["content-type"], "application/zip");
        assert_eq!(
            resp.headers()["content-disposition"],
            format!("attachment; filename=\"basalt-sdk-{lang}.zip\"").as_str()
        );
        let bytes = resp.bytes().await.unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let mut text = String::new();
        zip.by_name(file)
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .read_to_string(&mut text)
            .unwrap();
        assert!(text.contains(expect), "{lang}: {expect} not in {file}");
    }
}
