use basalt_core::service::{Action, ListParams};
use basalt_core::Error;
use poem::web::Path;
use poem::{handler, Response};

use crate::context::{param, Ctx};
use crate::ApiError;

/// Room reserved per listed record for the response body, so that serializing a page
/// rarely regrows its buffer.
const BYTES_PER_ITEM: usize = 512;

#[handler]
pub async fn list_records(ctx: Ctx, Path(collection): Path<String>) -> Result<Response, ApiError> {
    let r = &ctx.request;
    let params = ListParams {
        page: param(r, "page").parse().ok(),
        per_page: param(r, "perPage").parse().ok(),
        sort: param(r, "sort").to_owned(),
        filter: param(r, "filter").to_owned(),
        skip_total: matches!(param(r, "skipTotal"), "1" | "true"),
        expand: param(r, "expand").to_owned(),
        fields: param(r, "fields").to_owned(),
        search: param(r, "search").to_owned(),
        search_highlight: matches!(param(r, "searchHighlight"), "1" | "true"),
    };
    let body = ctx
        .run(move |s, who, request| {
            let c = s.collection(&collection)?;
            let permit = s.authorize(&who, &c, Action::List, request)?;
            let out = s.list_records(&who, &permit, &c, &params)?;
            let mut body = Vec::with_capacity(128 + BYTES_PER_ITEM * out.items.len());
            serde_json::to_writer(&mut body, &out)
                .map_err(|e| Error::internal(format!("list response: {e}")))?;
            Ok(body)
        })
        .await?;
    Ok(Response::builder()
        .content_type("application/json; charset=utf-8")
        .body(body))
}
