//! Email flows and OTP against a real SMTP sink on loopback, started by the test.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::kit::TestServer;

/// One received message: the recipient and the decoded body.
struct Received {
    to: String,
    data: String,
}

/// A minimal SMTP server: accepts every message and hands it to the test.
async fn smtp_sink() -> (u16, mpsc::UnboundedReceiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let (mut to, mut data, mut in_data) = (String::new(), String::new(), false);
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            let decoded = data.replace("=\r\n", "").replace("=3D", "=");
                            let _ = tx.send(Received {
                                to: to.clone(),
                                data: decoded,
                            });
                            data.clear();
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            data.push_str(&line);
                            data.push_str("\r\n");
                        }
                        continue;
                    }
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        to = line[8..].trim().trim_matches(['<', '>']).to_owned();
                        b"250 ok\r\n"
                    } else if upper.starts_with("DATA") {
                        in_data = true;
                        b"354 go on\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 ok\r\n"
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, rx)
}

async fn next_mail(rx: &mut mpsc::UnboundedReceiver<Received>) -> Received {
    tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .expect("no mail arrived")
        .unwrap()
}

fn token_in(body: &str) -> String {
    let start = body.find("eyJ").expect("a token in the mail");
    body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect()
}

async fn setup() -> (TestServer, mpsc::UnboundedReceiver<Received>) {
    let s = TestServer::start().await;
    let (port, rx) = smtp_sink().await;
    let smtp = json!({"smtp": {"enabled": true, "host": "127.0.0.1", "port": port}, "meta": {"appName": "Acme"}});
    assert_eq!(
        s.call(Method::PATCH, "/api/settings", Some(smtp)).await.0,
        StatusCode::OK
    );
    s.create_collection(json!({
        "name": "users", "type": "auth",
        "createRule": "", "viewRule": "id = @request.auth.id",
        "otp": {"enabled": true, "length": 6},
    }))
    .await;
    for email in ["gus@example.com", "hal@example.com"] {
        let body =
            json!({"email": email, "password": "password123", "passwordConfirm": "password123"});
        let (status, out) = s
            .call_as(
                None,
                Method::POST,
                "/api/collections/users/records",
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{out}");
    }
    (s, rx)
}

async fn post(s: &TestServer, token: Option<&str>, path: &str, body: Value) -> (StatusCode, Value) {
    s.call_as(
        token,
        Method::POST,
        &format!("/api/collections/users/{path}"),
        Some(body),
    )
    .await
}

async fn login(s: &TestServer, email: &str, password: &str) -> (StatusCode, Value) {
    post(
        s,
        None,
        "auth-with-password",
        json!({"identity": email, "password": password}),
    )
    .await
}

#[tokio::test]
async fn verification_by_mail() {
    let (s, mut rx) = setup().await;
    // an unknown address answers the same and sends nothing: the next mail is Gus's
    for email in ["nobody@example.com", "gus@example.com"] {
        let (status, _) = post(&s, None, "request-verification", json!({"email": email})).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let mail = next_mail(&mut rx).await;
    assert_eq!(mail.to, "gus@example.com");
    assert!(
        mail.data.contains("Acme"),
        "templates are filled: {}",
        mail.data
    );
    let token = token_in(&mail.data);
    let (status, body) = post(&s, None, "confirm-verification", json!({"token": "nope"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["data"]["token"]["code"], "validation_invalid_token");
    let (status, _) = post(&s, None, "confirm-verification", json!({"token": token})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, auth) = login(&s, "gus@example.com", "password123").await;
    assert_eq!(auth["record"]["verified"], true);
    let (status, _) = post(&s, None, "request-verification", json!({"email": "bad"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    s.shutdown().await;
}

#[tokio::test]
async fn password_reset_by_mail() {
    let (s, mut rx) = setup().await;
    let (_, before) = login(&s, "hal@example.com", "password123").await;
    let old_token = before["token"].as_str().unwrap().to_owned();
    let (status, _) = post(
        &s,
        None,
        "request-password-reset",
        json!({"email": "hal@example.com"}),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let token = token_in(&next_mail(&mut rx).await.data);
    let reset = json!({"token": token, "password": "brandnew99", "passwordConfirm": "brandnew99"});
    let (status, body) = post(
        &s,
        None,
        "confirm-password-reset",
        json!({"token": token, "password": "short", "passwordConfirm": "short"}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the password rules still apply: {body}"
    );
    assert_eq!(
        post(&s, None, "confirm-password-reset", reset.clone())
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        login(&s, "hal@example.com", "brandnew99").await.0,
        StatusCode::OK
    );
    // the reset token and every earlier session are spent
    assert_eq!(
        post(&s, None, "confirm-password-reset", reset).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post(&s, Some(&old_token), "auth-refresh", json!({}))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    s.shutdown().await;
}

#[tokio::test]
async fn email_change_by_mail() {
    let (s, mut rx) = setup().await;
    let (_, auth) = login(&s, "gus@example.com", "password123").await;
    let token = auth["token"].as_str().unwrap().to_owned();
    let (status, _) = post(
        &s,
        None,
        "request-email-change",
        json!({"newEmail": "gus2@example.com"}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "only the signed-in owner asks"
    );
    let (status, body) = post(
        &s,
        Some(&token),
        "request-email-change",
        json!({"newEmail": "hal@example.com"}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a taken address is refused: {body}"
    );
    let (status, _) = post(
        &s,
        Some(&token),
        "request-email-change",
        json!({"newEmail": "gus2@example.com"}),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let mail = next_mail(&mut rx).await;
    assert_eq!(
        mail.to, "gus2@example.com",
        "the link goes to the new address"
    );
    let change = token_in(&mail.data);
    let (status, body) = post(
        &s,
        None,
        "confirm-email-change",
        json!({"token": change, "password": "wrong-one"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["data"]["password"]["code"],
        "validation_invalid_password"
    );
    let (status, _) = post(
        &s,
        None,
        "confirm-email-change",
        json!({"token": change, "password": "password123"}),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        login(&s, "gus@example.com", "password123").await.0,
        StatusCode::BAD_REQUEST
    );
    let (status, auth) = login(&s, "gus2@example.com", "password123").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(auth["record"]["verified"], true);
    s.shutdown().await;
}

#[tokio::test]
async fn one_time_passwords_by_mail() {
    let (s, mut rx) = setup().await;
    let (status, decoy) = post(
        &s,
        None,
        "request-otp",
        json!({"email": "nobody@example.com"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "unknown addresses get an id too");
    assert_eq!(decoy["otpId"].as_str().unwrap().len(), 15);
    let (status, out) = post(&s, None, "request-otp", json!({"email": "hal@example.com"})).await;
    assert_eq!(status, StatusCode::OK);
    let otp_id = out["otpId"].as_str().unwrap().to_owned();
    let mail = next_mail(&mut rx).await;
    assert_eq!(mail.to, "hal@example.com");
    let start = mail.data.find("<strong>").unwrap() + "<strong>".len();
    let code: String = mail.data[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert_eq!(code.len(), 6);
    let (status, _) = post(
        &s,
        None,
        "auth-with-otp",
        json!({"otpId": otp_id, "password": "000000x"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = post(
        &s,
        None,
        "auth-with-otp",
        json!({"otpId": decoy["otpId"], "password": code}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, auth) = post(
        &s,
        None,
        "auth-with-otp",
        json!({"otpId": otp_id, "password": code}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{auth}");
    assert_eq!(auth["record"]["email"], "hal@example.com");
    assert_eq!(auth["record"]["verified"], true, "the code came by mail");
    let (status, _) = post(
        &s,
        None,
        "auth-with-otp",
        json!({"otpId": otp_id, "password": code}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an OTP is single use");
    // the test mail endpoint reports delivery
    let (status, _) = s
        .call(
            Method::POST,
            "/api/settings/test/email",
            Some(json!({"email": "ops@example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(next_mail(&mut rx).await.to, "ops@example.com");

    // deleting the account deletes its pending one-time passwords
    let (status, _) = post(&s, None, "request-otp", json!({"email": "hal@example.com"})).await;
    assert_eq!(status, StatusCode::OK);
    let hal = auth["record"]["id"].as_str().unwrap();
    let pending = format!("/api/collections/_otps/records?filter=recordRef%3D%27{hal}%27");
    let (_, otps) = s.call(Method::GET, &pending, None).await;
    assert_eq!(otps["totalItems"], 1, "{otps}");
    let (status, _) = s
        .call(
            Method::DELETE,
            &format!("/api/collections/users/records/{hal}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, otps) = s.call(Method::GET, &pending, None).await;
    assert_eq!(otps["totalItems"], 0, "{otps}");
    s.shutdown().await;
}
