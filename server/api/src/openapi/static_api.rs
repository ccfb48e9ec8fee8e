//! The static endpoints as one poem-openapi `#[OpenApi]` impl: these handlers serve
//! the requests, and the same declarations produce their part of `/api/openapi.json`.

use poem::Body;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, OpenApi, Tags};
use serde_json::Value;

use super::dto::{
    typed, Backup, EmptyObject, Explanation, FileToken, Health, NewBackup, NewPolicy, NewRoleLink,
    Policy, PolicyList, RecordRoles, RoleLink, RoleLinkList, RoleList, TestEmail,
};
use super::typing::{Input, NoContent, SuperuserOnly};
use crate::context::{durable, Ctx};
use crate::ApiError;

#[derive(Tags)]
pub enum Tag {
    /// Liveness.
    Health,
    /// Files of `file` fields.
    Files,
    /// Backups of the data directory (superusers only).
    Backups,
    /// Roles and policies (superusers only).
    Authorization,
    /// Application settings (superusers only).
    Settings,
}

type Reply<T> = Result<Json<T>, ApiError>;

/// A backup archive download.
#[derive(ApiResponse)]
pub enum Archive {
    /// The zip archive.
    #[oai(status = 200, content_type = "application/zip")]
    Zip(
        Binary<Body>,
        #[oai(header = "Content-Disposition")] String,
        #[oai(header = "Content-Length")] u64,
    ),
}

/// The static part of the API.
pub struct StaticApi;

#[OpenApi]
impl StaticApi {
    /// Health check
    #[oai(
        path = "/api/health",
        method = "get",
        tag = "Tag::Health",
        operation_id = "health"
    )]
    async fn health(&self) -> Json<Health> {
        Json(Health {
            message: "API is healthy.".into(),
            code: 200,
            data: EmptyObject::default(),
        })
    }

    /// Health check (headers only)
    #[oai(
        path = "/api/health",
        method = "head",
        tag = "Tag::Health",
        operation_id = "healthHead"
    )]
    async fn health_head(&self) -> Json<Health> {
        self.health().await
    }

    /// Issue a file token
    ///
    /// A short-lived token for protected files, for the authenticated caller.
    #[oai(
        path = "/api/files/token",
        method = "post",
        tag = "Tag::Files",
        operation_id = "fileToken"
    )]
    async fn file_token(&self, ctx: Ctx) -> Reply<FileToken> {
        let token = ctx.run(move |s, who, _| s.issue_file_token(&who)).await?;
        Ok(Json(FileToken { token }))
    }

    /// List backups
    #[oai(
        path = "/api/backups",
        method = "get",
        tag = "Tag::Backups",
        operation_id = "listBackups"
    )]
    async fn list_backups(&self, ctx: Ctx, _auth: SuperuserOnly) -> Reply<Vec<Backup>> {
        let list = crate::backups::as_superuser(ctx, |b| b.list()).await?;
        Ok(Json(
            list.into_iter()
                .map(|b| Backup {
                    key: b.key,
                    size: b.size,
                    modified: b.modified,
                })
                .collect(),
        ))
    }

    /// Create a backup
    #[oai(
        path = "/api/backups",
        method = "post",
        tag = "Tag::Backups",
        operation_id = "createBackup"
    )]
    async fn create_backup(
        &self,
        ctx: Ctx,
        input: Input<NewBackup>,
        _auth: SuperuserOnly,
    ) -> Result<NoContent, ApiError> {
        crate::backups::create_backup(ctx, input.body).await?;
        Ok(NoContent::Done)
    }

    /// Delete a backup
    #[oai(
        path = "/api/backups/:key",
        method = "delete",
        tag = "Tag::Backups",
        operation_id = "deleteBackup"
    )]
    async fn delete_backup(
        &self,
        ctx: Ctx,
        key: Path<String>,
        _auth: SuperuserOnly,
    ) -> Result<NoContent, ApiError> {
        crate::backups::as_superuser(ctx, move |b| b.delete(&key.0)).await?;
        Ok(NoContent::Done)
    }

    /// Download a backup
    #[oai(
        path = "/api/backups/:key",
        method = "get",
        tag = "Tag::Backups",
        operation_id = "downloadBackup"
    )]
    async fn download_backup(
        &self,
        ctx: Ctx,
        key: Path<String>,
        /// A superuser file token (`/api/files/token`), for browser downloads.
        #[oai(name = "token")]
        _token: Query<Option<String>>,
        _auth: SuperuserOnly,
    ) -> Result<Archive, ApiError> {
        let (file, len, key) = crate::backups::open_backup(ctx, key.0).await?;
        Ok(Archive::Zip(
            Binary(Body::from_async_read(file)),
            format!("attachment; filename=\"{key}\""),
            len,
        ))
    }

    /// Restore a backup
    ///
    /// Replaces the data directory with the archive's content once it has been
    /// imported and verified; the server reopens its data on the same socket.
    #[oai(
        path = "/api/backups/:key/restore",
        method = "post",
        tag = "Tag::Backups",
        operation_id = "restoreBackup"
    )]
    async fn restore_backup(
        &self,
        ctx: Ctx,
        key: Path<String>,
        _auth: SuperuserOnly,
    ) -> Result<NoContent, ApiError> {
        crate::backups::as_superuser(ctx, move |b| b.restore(&key.0)).await?;
        Ok(NoContent::Done)
    }

    /// List policies
    #[oai(
        path = "/api/policies",
        method = "get",
        tag = "Tag::Authorization",
        operation_id = "listPolicies"
    )]
    async fn list_policies(
        &self,
        ctx: Ctx,
        /// Only the policies of this collection (id or name).
        collection: Query<Option<String>>,
        /// Only the policies of this role.
        role: Query<Option<String>>,
        _auth: SuperuserOnly,
    ) -> Reply<PolicyList> {
        let (collection, role) = (collection.0, role.0);
        let out = ctx
            .run(move |s, who, _| s.list_policies(&who, collection.as_deref(), role.as_deref()))
            .await?;
        Ok(Json(typed(out)?))
    }

    /// Create a policy
    #[oai(
        path = "/api/policies",
        method = "post",
        tag = "Tag::Authorization",
        operation_id = "createPolicy"
    )]
    async fn create_policy(
        &self,
        ctx: Ctx,
        input: Input<NewPolicy>,
        _auth: SuperuserOnly,
    ) -> Reply<Policy> {
        let state = ctx.state.clone();
        let body = input.body;
        let (out, pending) = ctx.run(move |s, who, _| s.add_policy(&who, &body)).await?;
        durable(&state, pending).await?;
        Ok(Json(typed(out)?))
    }

    /// Delete a policy
    #[oai(
        path = "/api/policies/:id",
        method = "delete",
        tag = "Tag::Authorization",
        operation_id = "deletePolicy"
    )]
    async fn delete_policy(
        &self,
        ctx: Ctx,
        id: Path<String>,
        _auth: SuperuserOnly,
    ) -> Result<NoContent, ApiError> {
        let state = ctx.state.clone();
        let pending = ctx
            .run(move |s, who, _| s.delete_policy(&who, &id.0))
            .await?;
        durable(&state, pending).await?;
        Ok(NoContent::Done)
    }

    /// Explain a collection's access
    ///
    /// Per action, the collection's rule and every policy that grants it.
    #[oai(
        path = "/api/policies/explain/:collection",
        method = "get",
        tag = "Tag::Authorization",
        operation_id = "explainCollection"
    )]
    async fn explain_collection(
        &self,
        ctx: Ctx,
        collection: Path<String>,
        _auth: SuperuserOnly,
    ) -> Reply<Explanation> {
        let out = ctx
            .run(move |s, who, _| s.explain_collection(&who, &collection.0))
            .await?;
        Ok(Json(typed(out)?))
    }

    /// List roles
    #[oai(
        path = "/api/roles",
        method = "get",
        tag = "Tag::Authorization",
        operation_id = "listRoles"
    )]
    async fn list_roles(&self, ctx: Ctx, _auth: SuperuserOnly) -> Reply<RoleList> {
        Ok(Json(typed(
            ctx.run(move |s, who, _| s.list_roles(&who)).await?,
        )?))
    }

    /// List role assignments and inheritance links
    #[oai(
        path = "/api/roles/links",
        method = "get",
        tag = "Tag::Authorization",
        operation_id = "listRoleLinks"
    )]
    async fn list_role_links(
        &self,
        ctx: Ctx,
        /// Only the links of this role.
        role: Query<Option<String>>,
        /// Only the links of this subject (`<collectionId>/<recordId>` or a role).
        subject: Query<Option<String>>,
        _auth: SuperuserOnly,
    ) -> Reply<RoleLinkList> {
        let (role, subject) = (role.0, subject.0);
        let out = ctx
            .run(move |s, who, _| s.list_role_links(&who, role.as_deref(), subject.as_deref()))
            .await?;
        Ok(Json(typed(out)?))
    }

    /// Assign a role or link two roles
    #[oai(
        path = "/api/roles/links",
        method = "post",
        tag = "Tag::Authorization",
        operation_id = "createRoleLink"
    )]
    async fn create_role_link(
        &self,
        ctx: Ctx,
        input: Input<NewRoleLink>,
        _auth: SuperuserOnly,
    ) -> Reply<RoleLink> {
        let state = ctx.state.clone();
        let body = input.body;
        let (out, pending) = ctx
            .run(move |s, who, _| s.add_role_link(&who, &body))
            .await?;
        durable(&state, pending).await?;
        Ok(Json(typed(out)?))
    }

    /// Delete a role assignment or link
    #[oai(
        path = "/api/roles/links/:id",
        method = "delete",
        tag = "Tag::Authorization",
        operation_id = "deleteRoleLink"
    )]
    async fn delete_role_link(
        &self,
        ctx: Ctx,
        id: Path<String>,
        _auth: SuperuserOnly,
    ) -> Result<NoContent, ApiError> {
        let state = ctx.state.clone();
        let pending = ctx
            .run(move |s, who, _| s.delete_role_link(&who, &id.0))
            .await?;
        durable(&state, pending).await?;
        Ok(NoContent::Done)
    }

    /// The effective roles of an auth record
    #[oai(
        path = "/api/roles/records/:collection/:record",
        method = "get",
        tag = "Tag::Authorization",
        operation_id = "recordRoles"
    )]
    async fn record_roles(
        &self,
        ctx: Ctx,
        collection: Path<String>,
        record: Path<String>,
        _auth: SuperuserOnly,
    ) -> Reply<RecordRoles> {
        let out = ctx
            .run(move |s, who, _| s.roles_of_record(&who, &collection.0, &record.0))
            .await?;
        Ok(Json(typed(out)?))
    }

    /// Read the settings
    ///
    /// PocketBase's settings object (secrets are never echoed).
    #[oai(
        path = "/api/settings",
        method = "get",
        tag = "Tag::Settings",
        operation_id = "getSettings"
    )]
    async fn get_settings(&self, ctx: Ctx, _auth: SuperuserOnly) -> Reply<Value> {
        Ok(Json(ctx.run(|s, who, _| s.get_settings(&who)).await?))
    }

    /// Change the settings
    ///
    /// A partial settings object; it is validated whole before it is swapped in.
    #[oai(
        path = "/api/settings",
        method = "patch",
        tag = "Tag::Settings",
        operation_id = "updateSettings"
    )]
    async fn update_settings(
        &self,
        ctx: Ctx,
        input: Input<Value>,
        _auth: SuperuserOnly,
    ) -> Reply<Value> {
        let state = ctx.state.clone();
        let body = input.body;
        let (out, pending) = ctx
            .run(move |s, who, _| s.update_settings(&who, &body))
            .await?;
        durable(&state, pending).await?;
        Ok(Json(out))
    }

    /// Send a test email
    ///
    /// Sends a message through the configured mail settings now and reports failures.
    #[oai(
        path = "/api/settings/test/email",
        method = "post",
        tag = "Tag::Settings",
        operation_id = "testEmail"
    )]
    async fn test_email(
        &self,
        ctx: Ctx,
        input: Input<TestEmail>,
        _auth: SuperuserOnly,
    ) -> Result<NoContent, ApiError> {
        crate::emails::test_email(ctx, input.body).await?;
        Ok(NoContent::Done)
    }
}
