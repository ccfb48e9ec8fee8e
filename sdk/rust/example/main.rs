//! A small app on the generated Rust client for the fixture schema (sdk/fixture/):
//! sign up, sign in, CRUD, a list with filter and expand, full-text search, a realtime
//! create event, a file upload and a batch. The Rust SDK test (server/basalt/tests/sdk.rs)
//! builds it against the generated crate and runs it against a live server
//! (BASALT_URL); it prints one JSON report on stdout.

use std::time::Duration;

use basalt_client::{
    Basalt, Error, FileUpload, ListOptions, MembersCreate, PostsCreate, PostsLabels, PostsStatus,
    PostsUpdate, TagsCreate, ViewOptions,
};

type AppResult<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn check(cond: bool, what: &str) -> AppResult<()> {
    if cond {
        Ok(())
    } else {
        Err(format!("check failed: {what}").into())
    }
}

#[tokio::main]
async fn main() -> AppResult<()> {
    let url = std::env::var("BASALT_URL").unwrap_or_else(|_| "http://127.0.0.1:8090".into());
    let pb = Basalt::new(&url);

    // Sign up and sign in.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let email = format!("rs-{nanos}@example.com");
    let me = pb
        .members()
        .create(&MembersCreate {
            email: email.clone(),
            password: "password123".into(),
            password_confirm: "password123".into(),
            name: Some("Ada".into()),
            ..Default::default()
        })
        .await?;
    let auth = pb
        .members()
        .auth_with_password(&email, "password123")
        .await?;
    check(
        auth.record.id == me.id && !auth.token.is_empty(),
        "auth-with-password",
    )?;
    let refreshed = pb.members().auth_refresh().await?;
    check(refreshed.record.name == "Ada", "auth-refresh")?;
    pb.members().request_password_reset(&email).await?;

    // A wrong password is an error carrying the envelope.
    let wrong = Basalt::new(&url)
        .members()
        .auth_with_password(&email, "wrong-password")
        .await;
    let wrong_status = match wrong {
        Err(Error::Response(e)) => e.status,
        other => return Err(format!("a wrong password gave {other:?}").into()),
    };

    // Realtime: subscribe before creating.
    let mut events = pb.posts().subscribe("*", None).await?;

    // CRUD with every field type, and a file.
    let tag = pb
        .tags()
        .create(&TagsCreate {
            label: "rust".into(),
            ..Default::default()
        })
        .await?;
    let post = pb
        .posts()
        .create(&PostsCreate {
            title: "Typed clients in Rust".into(),
            body: Some("<p>generated from the schema</p>".into()),
            views: Some(3.0),
            published: Some(true),
            contact: Some("ada@example.com".into()),
            website: Some("https://example.com".into()),
            due: Some("2030-01-01 10:00:00.000Z".into()),
            status: Some(PostsStatus::Draft),
            labels: Some(vec![PostsLabels::News, PostsLabels::Tech]),
            meta: Some(serde_json::json!({"answer": 42, "list": [1, "two"]})),
            author: Some(me.id.clone()),
            tags: Some(vec![tag.id.clone()]),
            cover: Some(FileUpload::new("hello.txt", b"hello file".to_vec())),
            ..Default::default()
        })
        .await?;
    check(post.views == 3.0, "create returns the number")?;
    check(
        post.status == Some(PostsStatus::Draft),
        "create returns the select",
    )?;
    check(post.labels.len() == 2, "create returns the multi select")?;
    check(post.cover.ends_with(".txt"), "the file was stored")?;
    let bytes = pb.client().download("posts", &post.id, &post.cover).await?;
    check(bytes == b"hello file", "the file is served")?;

    let updated = pb
        .posts()
        .update(
            &post.id,
            &PostsUpdate {
                views: Some(10.0),
                status: Some(PostsStatus::Published),
                ..Default::default()
            },
        )
        .await?;
    check(updated.views == 10.0, "update")?;

    let expand = ViewOptions {
        expand: Some("author,tags".into()),
        ..Default::default()
    };
    let one = pb.posts().get_one(&post.id, &expand).await?;
    let ex = one.expand.clone().unwrap_or_default();
    check(
        ex.author.map(|a| a.name) == Some("Ada".into()),
        "expand a single relation",
    )?;
    check(
        ex.tags
            .unwrap_or_default()
            .first()
            .map(|t| t.label.as_str())
            == Some("rust"),
        "expand a multi relation",
    )?;

    pb.posts()
        .create(&PostsCreate {
            title: "Unrelated words".into(),
            views: Some(1.0),
            author: Some(me.id.clone()),
            ..Default::default()
        })
        .await?;
    let list = pb
        .posts()
        .get_list(&ListOptions {
            filter: Some(format!("views > 5 && author = \"{}\"", me.id)),
            sort: Some("-created".into()),
            expand: Some("author".into()),
            ..Default::default()
        })
        .await?;
    check(list.total_items == 1, "list with a filter")?;
    let listed = list.items.first().ok_or("empty list")?;
    check(
        listed
            .expand
            .as_ref()
            .and_then(|e| e.author.as_ref())
            .map(|a| a.id.as_str())
            == Some(me.id.as_str()),
        "list with expand",
    )?;
    let full = pb.posts().get_full_list(&ListOptions::default()).await?;
    check(full.len() == 2, "full list")?;
    let first = pb
        .posts()
        .get_first("title = \"Unrelated words\"", &ListOptions::default())
        .await?;
    check(first.views == 1.0, "get_first")?;

    // Full-text search (the index commits shortly after the write).
    let mut search_hits = 0;
    for _ in 0..100 {
        let found = pb
            .posts()
            .get_list(&ListOptions {
                search: Some("typed clients".into()),
                ..Default::default()
            })
            .await?;
        if let Some(hit) = found.items.first() {
            check(hit.id == post.id, "search finds the post")?;
            search_hits = found.total_items;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    check(search_hits >= 1, "search hits")?;

    // The realtime create event.
    let action = loop {
        let next = tokio::time::timeout(Duration::from_secs(10), events.next()).await?;
        let event = next.ok_or("the realtime stream ended")??;
        if event.record.id == post.id {
            break event.action;
        }
    };
    drop(events);

    // A batch creates two tags at once.
    let mut batch = pb.batch();
    for label in ["one", "two"] {
        batch.tags_create(&TagsCreate {
            label: label.into(),
            ..Default::default()
        });
    }
    let results = batch.send().await?;
    check(results.iter().all(|r| r.status == 200), "batch")?;

    // Delete; a missing record is a 404.
    pb.posts().delete(&post.id).await?;
    let gone = pb.posts().get_one(&post.id, &ViewOptions::default()).await;
    check(matches!(gone, Err(ref e) if e.status() == 404), "deleted")?;

    let report = serde_json::json!({
        "signedIn": auth.record.id,
        "wrongPasswordStatus": wrong_status,
        "cover": post.cover,
        "searchHits": search_hits,
        "realtimeAction": action,
        "batch": results.len(),
        "deleted": true,
    });
    println!("{report}");
    Ok(())
}
