use basalt_core::service::{Action, ListOutput, ListParams};
use poem::handler;
use poem::web::{Json, Path};

use crate::context::{param, Ctx};
use crate::ApiError;

#[handler]
pub async fn list_records(
    ctx: Ctx,
    Path(collection): Path<String>,
) -> Result<Json<ListOutput>, ApiError> {
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
    let out = ctx
        .run(move |s, who, request| {
            let c = s.collection(&collection)?;
            let permit = s.authorize(&who, &c, Action::List, request)?;
            s.list_records(&who, &permit, &c, &params)
        })
        .await?;
    Ok(Json(out))
}
