//! Request logs (`/api/logs`) and metrics (`/api/metrics`).

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::kit::TestServer;

/// Polls `/api/logs` with `query` until it reports at least `n` items.
async fn logs_until(s: &TestServer, query: &str, n: u64) -> Value {
    for _ in 0..300 {
        let (status, body) = s
            .call(Method::GET, &format!("/api/logs?{query}"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["totalItems"].as_u64().unwrap_or(0) >= n {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} logs for {query}");
}

#[tokio::test]
async fn requests_are_logged_with_their_fields() {
    let s = TestServer::start().await;
    let resp = s
        .client
        .get(format!("{}/api/health?probe=1", s.url))
        .header("User-Agent", "logs-test/1")
        .header("Referer", "http://example.test/")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (status, _) = s.call(Method::GET, "/api/collections/nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let filter = "filter=data.userAgent%3D%22logs-test%2F1%22";
    let body = logs_until(&s, filter, 1).await;
    let item = &body["items"][0];
    assert_eq!(item["message"], "GET /api/health?probe=1");
    assert_eq!(item["level"], 0);
    assert_eq!(item["data"]["status"], 200);
    assert_eq!(item["data"]["method"], "GET");
    assert_eq!(item["data"]["referer"], "http://example.test/");
    assert_eq!(item["data"]["userIP"], "127.0.0.1");
    assert_eq!(item["data"]["remoteIP"], "127.0.0.1");
    assert_eq!(item["data"]["userAgent"], "logs-test/1");
    assert_eq!(item["data"]["url"], "/api/health?probe=1");
    assert_eq!(item["data"]["type"], "request");
    assert_eq!(item["created"], item["updated"]);
    assert_eq!(item["data"]["auth"], "");
    assert!(item["data"]["execTime"].as_f64().unwrap() >= 0.0);
    let id = item["id"].as_str().unwrap();
    let (status, one) = s.call(Method::GET, &format!("/api/logs/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["id"], id);
    // Text that JSON escapes comes back as it was sent.
    let agent = "quoting \"agent\" \\ \t/2";
    s.client
        .get(format!("{}/api/health", s.url))
        .header("User-Agent", agent)
        .send()
        .await
        .unwrap();
    let body = logs_until(&s, "filter=data.userAgent~%22agent%22", 1).await;
    assert_eq!(body["items"][0]["data"]["userAgent"], agent);
    let (status, _) = s.call(Method::GET, "/api/logs/missing", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let body = logs_until(&s, "filter=data.status%3D404", 1).await;
    let item = &body["items"][0];
    assert_eq!(item["level"], 4);
    assert_eq!(item["data"]["auth"], "_superusers");
}

#[tokio::test]
async fn logs_filter_sort_page_and_stats() {
    let s = TestServer::start().await;
    for i in 0..5 {
        let (status, _) = s
            .call(Method::GET, &format!("/api/health?n={i}"), None)
            .await;
        assert_eq!(status, StatusCode::OK);
        // `created` has millisecond resolution: keep the order unambiguous.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let f = "filter=message~%22%2Fapi%2Fhealth%3Fn%3D%22";
    let body = logs_until(&s, f, 5).await;
    assert_eq!(body["totalItems"], 5);
    let body = logs_until(&s, &format!("{f}&sort=created&perPage=2&page=2"), 5).await;
    assert_eq!(body["page"], 2);
    assert_eq!(body["perPage"], 2);
    assert_eq!(body["totalPages"], 3);
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    assert_eq!(body["items"][0]["message"], "GET /api/health?n=2");
    let body = logs_until(&s, &format!("{f}&sort=-created&perPage=1"), 5).await;
    assert_eq!(body["items"][0]["message"], "GET /api/health?n=4");
    let (status, _) = s.call(Method::GET, "/api/logs?filter=nope%3D1", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, stats) = s
        .call(Method::GET, &format!("/api/logs/stats?{f}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    let total: u64 = stats
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["total"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 5);
    assert!(stats[0]["date"].as_str().unwrap().ends_with(":00:00.000Z"));
}

#[tokio::test]
async fn logs_and_metrics_are_superuser_only() {
    let s = TestServer::start().await;
    for path in [
        "/api/logs",
        "/api/logs/stats",
        "/api/logs/x",
        "/api/metrics",
    ] {
        let (status, _) = s.call_as(None, Method::GET, path, None).await;
        assert!(status == 401 || status == 403, "{path}: {status}");
    }
}

#[tokio::test]
async fn logs_name_each_caller_and_follow_the_ip_and_auth_id_settings() {
    let s = TestServer::start().await;
    let (status, body) = s
        .call(
            Method::PATCH,
            "/api/settings",
            Some(json!({"logs": {"logIP": false, "logAuthId": true}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    s.create_collection(json!({
        "name": "members", "type": "auth", "fields": [],
        "createRule": "", "listRule": "", "viewRule": "",
    }))
    .await;
    let (member, member_token) = s.sign_up("members", "m@example.com").await;
    let member_token = member_token.as_str();
    let (_, me) = s
        .call(Method::GET, "/api/collections/_superusers/records", None)
        .await;
    let superuser_id = me["items"][0]["id"].as_str().unwrap().to_owned();
    // Interleaved callers, so that one batch of the writer holds all three.
    for round in 0..3 {
        for (token, who) in [
            (Some(member_token), "member"),
            (Some(s.token.as_str()), "superuser"),
            (None, "guest"),
        ] {
            let path = format!("/api/health?who={who}&round={round}");
            s.call_as(token, Method::GET, &path, None).await;
        }
    }
    for (who, auth, auth_id) in [
        ("member", "members", Some(member["id"].as_str().unwrap())),
        ("superuser", "_superusers", Some(superuser_id.as_str())),
        ("guest", "", None),
    ] {
        let query = format!("filter=message~%22who%3D{who}%26%22&perPage=10");
        let body = logs_until(&s, &query, 3).await;
        for item in body["items"].as_array().unwrap() {
            assert_eq!(item["data"]["auth"], auth, "{item}");
            assert_eq!(item["data"]["authId"].as_str(), auth_id, "{item}");
            assert_eq!(item["data"]["userIP"], "", "{item}");
            assert_eq!(item["data"]["remoteIP"], "", "{item}");
        }
    }
}

#[tokio::test]
async fn max_days_zero_turns_logging_off() {
    let s = TestServer::start().await;
    let (status, body) = s
        .call(
            Method::PATCH,
            "/api/settings",
            Some(json!({"logs": {"maxDays": 0}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    s.call(Method::GET, "/api/health?off=1", None).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, body) = s
        .call(Method::GET, "/api/logs?filter=message~%22off%3D1%22", None)
        .await;
    assert_eq!(body["totalItems"], 0);
    let (status, _) = s
        .call(
            Method::PATCH,
            "/api/settings",
            Some(json!({"logs": {"maxDays": -1}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test]
async fn metrics_parse_and_counters_move() {
    let s = TestServer::start_with(|c| {
        c.metrics_token = Some(basalt::config::Secret::new("scrape-token-0123456789"));
    })
    .await;
    let scrape = || async {
        let resp = s
            .client
            .get(format!("{}/api/metrics", s.url))
            .header("Authorization", "Bearer scrape-token-0123456789")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        resp.text().await.unwrap()
    };
    let series = "basalt_http_requests_total{route=\"/api/health\",status=\"2xx\"}";
    let before = sample(&scrape().await, series).unwrap_or(0.0);
    for _ in 0..3 {
        s.call(Method::GET, "/api/health", None).await;
    }
    let text = scrape().await;
    assert_eq!(sample(&text, series), Some(before + 3.0), "{text}");
    for line in text.lines().filter(|l| !l.is_empty()) {
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        let (name, value) = line.rsplit_once(' ').unwrap();
        assert!(value.parse::<f64>().is_ok(), "{line}");
        assert!(name.chars().next().unwrap().is_ascii_alphabetic(), "{line}");
    }
    let count = sample(&text, "basalt_http_request_duration_seconds_count").unwrap();
    let inf = sample(
        &text,
        "basalt_http_request_duration_seconds_bucket{le=\"+Inf\"}",
    )
    .unwrap();
    assert_eq!(count, inf);
    assert!(sample(&text, "basalt_store_size_bytes").unwrap() > 0.0);
    assert_eq!(sample(&text, "basalt_realtime_clients"), Some(0.0));

    // A durable write moves the flush and sequence series; a searchable one is
    // indexed, so the search lag returns to 0.
    let flushes = sample(&text, "basalt_store_flush_duration_seconds_count").unwrap();
    let seq = sample(&text, "basalt_store_durable_seq").unwrap();
    s.create_collection(json!({
        "name": "notes", "type": "base", "createRule": "",
        "fields": [{"name": "body", "type": "text", "searchable": true}],
    }))
    .await;
    s.create_record("notes", json!({"body": "hello metrics"}))
        .await;
    let text = scrape().await;
    assert!(sample(&text, "basalt_store_flush_duration_seconds_count").unwrap() > flushes);
    assert!(sample(&text, "basalt_store_flush_duration_seconds_sum").unwrap() > 0.0);
    assert!(sample(&text, "basalt_store_durable_seq").unwrap() > seq);
    let mut lag = sample(&text, "basalt_search_lag");
    for _ in 0..100 {
        if lag == Some(0.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        lag = sample(&scrape().await, "basalt_search_lag");
    }
    assert_eq!(lag, Some(0.0));
    assert!(text.contains("basalt_build_info{version="));
    let resp = s
        .client
        .get(format!("{}/api/metrics", s.url))
        .header("Authorization", "Bearer wrong-token-0123456789")
        .send()
        .await
        .unwrap();
    assert!(resp.status() == 401 || resp.status() == 403);
    let (status, _) = s.call(Method::GET, "/api/metrics", None).await;
    assert_eq!(status, StatusCode::OK, "superusers may read the metrics");
}
