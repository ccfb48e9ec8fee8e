//! Record bodies as `multipart/form-data`, PocketBase's way: plain parts are values
//! (`true`/`false`/numbers inferred, a repeated key becomes a list), each
//! `@jsonPayload` part is a JSON object merged into the body (the JS SDK sends
//! non-file values so), and parts with a file name are uploads.

use basalt_core::files::Upload;
use basalt_core::schema::field::FieldKind;
use basalt_core::schema::Collection;
use basalt_core::service::DEFAULT_MAX_FILE_SIZE;
use basalt_core::{Code, Error, FieldError};
use poem::Request;
use serde_json::{Map, Value as Json};

use crate::context::{read_body, HttpLimits};
use crate::ApiError;

/// Most parts one multipart body may have.
const MAX_PARTS: usize = 1000;

/// A record body with its uploads.
pub struct RecordInput {
    pub body: Map<String, Json>,
    pub uploads: Vec<Upload>,
}

/// The largest multipart body a write to `collection` may send: the JSON limit plus
/// every file field's `maxSize` times `maxSelect`, capped by `max_upload_bytes`. A
/// file slightly over its field's `maxSize` still arrives, to get its field error.
pub fn upload_limit(collection: Option<&Collection>, limits: &HttpLimits) -> u64 {
    let files: u64 = collection
        .map(|c| {
            c.fields
                .iter()
                .filter_map(|f| match &f.kind {
                    FieldKind::File(o) => {
                        let size = if o.max_size == 0 {
                            DEFAULT_MAX_FILE_SIZE
                        } else {
                            o.max_size
                        };
                        Some(size.saturating_mul(u64::from(o.max_select.max(1))))
                    }
                    _ => None,
                })
                .fold(0u64, u64::saturating_add)
        })
        .unwrap_or(0);
    (limits.max_body_bytes as u64)
        .saturating_add(files)
        .min(limits.max_upload_bytes)
}

/// Reads a JSON, form or multipart record body.
pub async fn read_record_input(
    req: &Request,
    body: poem::Body,
    collection: Option<&Collection>,
    limits: &HttpLimits,
) -> Result<RecordInput, ApiError> {
    let limit = upload_limit(collection, limits);
    read_input(req, body, limits.max_body_bytes, limit).await
}

/// Reads a JSON or form body of at most `json_limit` bytes, or a multipart one of at
/// most `multipart_limit` bytes.
pub async fn read_input(
    req: &Request,
    body: poem::Body,
    json_limit: usize,
    multipart_limit: u64,
) -> Result<RecordInput, ApiError> {
    let content_type = req.content_type().unwrap_or_default();
    if !content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        let body = read_body(req, body, json_limit).await?;
        return Ok(RecordInput {
            body,
            uploads: Vec::new(),
        });
    }
    let limit = multipart_limit;
    let boundary = multer::parse_boundary(content_type).map_err(|e| invalid(e.to_string()))?;
    let constraints =
        multer::Constraints::new().size_limit(multer::SizeLimit::new().whole_stream(limit));
    let mut parts =
        multer::Multipart::with_constraints(body.into_bytes_stream(), boundary, constraints);
    let mut input = RecordInput {
        body: Map::new(),
        uploads: Vec::new(),
    };
    let mut count = 0;
    while let Some(mut field) = parts
        .next_field()
        .await
        .map_err(|e| multer_error(e, limit))?
    {
        count += 1;
        if count > MAX_PARTS {
            return Err(invalid(format!("at most {MAX_PARTS} parts are accepted")));
        }
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| multer_error(e, limit))? {
            bytes.extend_from_slice(&chunk);
        }
        if let Some(filename) = file_name {
            input.uploads.push(Upload {
                key: name,
                filename,
                bytes,
            });
            continue;
        }
        let text = String::from_utf8(bytes).map_err(|_| invalid("a part is not UTF-8".into()))?;
        if name == "@jsonPayload" {
            match serde_json::from_str::<Json>(&text) {
                Ok(Json::Object(map)) => input.body.extend(map),
                Ok(_) => return Err(invalid("@jsonPayload must be a JSON object".into())),
                Err(e) => return Err(invalid(format!("@jsonPayload: {e}"))),
            }
            continue;
        }
        push_value(&mut input.body, name, infer(text));
    }
    Ok(input)
}

/// `"true"`/`"false"` and numbers that print back the same become JSON values, as
/// the SDK's and PocketBase's form handling do.
fn infer(text: String) -> Json {
    match text.as_str() {
        "true" => return Json::Bool(true),
        "false" => return Json::Bool(false),
        _ => {}
    }
    let numeric = text.starts_with(|c: char| c == '-' || c.is_ascii_digit())
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'-' || b == b'.');
    if numeric {
        if let Ok(n) = text.parse::<i64>() {
            if n.to_string() == text {
                return Json::from(n);
            }
        }
        if let Ok(n) = text.parse::<f64>() {
            if n.is_finite() && n.to_string() == text {
                return Json::from(n);
            }
        }
    }
    Json::String(text)
}

fn push_value(body: &mut Map<String, Json>, key: String, value: Json) {
    match body.get_mut(&key) {
        None => {
            body.insert(key, value);
        }
        Some(Json::Array(items)) => items.push(value),
        Some(existing) => {
            let first = std::mem::take(existing);
            *existing = Json::Array(vec![first, value]);
        }
    }
}

fn invalid(message: String) -> ApiError {
    ApiError(
        Error::new(
            Code::InvalidBody,
            "Failed to load the submitted data due to invalid formatting.",
        )
        .with_field("body", FieldError::new("validation_invalid_body", message)),
    )
}

fn multer_error(e: multer::Error, limit: u64) -> ApiError {
    match e {
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
            ApiError(Error::new(
                Code::PayloadTooLarge,
                format!("The request body may be at most {limit} bytes."),
            ))
        }
        other => invalid(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn form_values_are_inferred_like_the_sdk_does() {
        assert_eq!(infer("true".into()), json!(true));
        assert_eq!(infer("12".into()), json!(12));
        assert_eq!(infer("-1.5".into()), json!(-1.5));
        assert_eq!(infer("007".into()), json!("007"));
        assert_eq!(infer("1e3".into()), json!("1e3"));
        assert_eq!(infer("abc".into()), json!("abc"));
    }

    #[test]
    fn repeated_keys_become_lists() {
        let mut body = Map::new();
        push_value(&mut body, "a".into(), json!("x"));
        push_value(&mut body, "a".into(), json!("y"));
        push_value(&mut body, "a".into(), json!("z"));
        assert_eq!(body["a"], json!(["x", "y", "z"]));
    }
}
