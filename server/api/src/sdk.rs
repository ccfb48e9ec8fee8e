//! `GET /api/sdk/{lang}` (superusers): the typed client for the current collections
//! (`typescript` or `rust`, as `basalt sdk generate` writes it) in a zip archive, for
//! the dashboard's download button.

use std::io::Write;

use basalt_core::{Code, Error};
use basalt_sdkgen::{Lang, Options, Schema};
use poem::http::header;
use poem::web::Path;
use poem::{handler, Response};
use zip::write::SimpleFileOptions;

use crate::context::Ctx;
use crate::ApiError;

#[handler]
pub async fn download_sdk(ctx: Ctx, Path(lang): Path<String>) -> Result<Response, ApiError> {
    let (name, archive) = ctx
        .run(move |s, who, _| {
            if !who.is_superuser() {
                return Err(Error::from_code(Code::SuperuserOnly));
            }
            let lang: Lang = lang
                .parse()
                .map_err(|e: basalt_sdkgen::Error| Error::bad_request(format!("{e}.")))?;
            let collections = s
                .catalog()
                .iter()
                .map(|c| serde_json::to_value(&**c))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| Error::internal(format!("the schema as JSON: {e}")))?;
            let schema = Schema::from_json(&serde_json::Value::Array(collections))
                .map_err(|e| Error::internal(format!("the schema for the SDK: {e}")))?;
            let files = basalt_sdkgen::generate(&schema, lang, &Options::default());
            let name = match lang {
                Lang::TypeScript => "basalt-sdk-typescript",
                Lang::Rust => "basalt-sdk-rust",
            };
            Ok((name, zip_files(name, &files)?))
        })
        .await?;
    Ok(Response::builder()
        .content_type("application/zip")
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.zip\""),
        )
        .header(header::CACHE_CONTROL, "no-store")
        .body(archive))
}

/// The files in a zip under the directory `root`.
fn zip_files(root: &str, files: &[basalt_sdkgen::File]) -> basalt_core::Result<Vec<u8>> {
    let fail = |e: &dyn std::fmt::Display| Error::internal(format!("zipping the SDK: {e}"));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .unix_permissions(0o644);
    for f in files {
        zip.start_file(format!("{root}/{}", f.path), options)
            .map_err(|e| fail(&e))?;
        zip.write_all(f.contents.as_bytes()).map_err(|e| fail(&e))?;
    }
    let out = zip.finish().map_err(|e| fail(&e))?;
    Ok(out.into_inner())
}
