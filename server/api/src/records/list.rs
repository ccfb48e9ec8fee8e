use basalt_core::service::{Action, ListParams, Services};
use poem::web::Path;
use poem::{handler, Response};

use crate::context::{param, Ctx, Step};
use crate::ApiError;

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
        .run_quick(move |s, who, request| {
            let c = s.collection(&collection)?;
            let permit = s.authorize(&who, &c, Action::List, request)?;
            // A page that reads only a few records, and nothing else, is served here;
            // anything more goes to the blocking pool.
            if let Some(out) = s.list_records_quick(&who, &permit, &c, &params)? {
                return Ok(Step::Done(out.to_json()));
            }
            Ok(Step::Blocking(Box::new(move |s: &Services| {
                Ok(s.list_records(&who, &permit, &c, &params)?.to_json())
            })))
        })
        .await?;
    Ok(Response::builder()
        .content_type("application/json; charset=utf-8")
        .body(body))
}
