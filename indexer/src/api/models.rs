//! `/models` and `/models/{id}`.

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Path, Query, State},
    response::Response,
};
use serde::Serialize;
use sqlx::Row as _;
use utoipa::{IntoParams, ToSchema};

use super::{
    Api,
    common::{Indexed, ListParams, MAX_LIMIT, Page, Params, Row, decode, list_response, uint},
    error::{ApiError, ApiResult, ErrorBody},
    manifest,
};
use crate::{
    entity::{License, Model, ModelVersion},
    store::Val,
};

/// Filters of `/models`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ModelFilters {
    /// Only this seller's models (address).
    pub seller: Option<String>,
    /// Only deprecated (`true`) or only listed (`false`) models.
    pub deprecated: Option<bool>,
}

/// `/models`: every model, oldest first.
#[utoipa::path(get, path = "/models", tag = "models", params(ModelFilters, ListParams),
    responses((status = 200, body = Page<Row<Model>>, description = "A page of models (CSV with format=csv)"),
              (status = 400, body = ErrorBody, description = "A malformed parameter, named")))]
pub async fn list(State(api): State<Api>, Query(q): Query<HashMap<String, String>>) -> ApiResult<Response> {
    let p = Params::new(q, &["seller", "deprecated"], true)?;
    let (limit, cursor, format) = (p.limit()?, p.seek()?, p.format()?);
    let mut filters = Vec::new();
    if let Some(seller) = p.address("seller")? {
        filters.push(("seller =", Val::from(seller)));
    }
    if let Some(d) = p.bool("deprecated")? {
        filters.push(("deprecated =", Val::from(d)));
    }
    let view = api.view().await?;
    let (rows, next) = api.page::<Model>("models", &filters, cursor, limit).await?;
    let items = rows.into_iter().map(|(item, b)| Row { item, meta: view.meta(b) }).collect();
    list_response(Page { items, next_cursor: next, indexed: view.indexed() }, format)
}

/// Operators that claimed jobs of a model.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServedBy {
    /// The operator.
    pub operator: String,
    /// Jobs of this model it claimed (at any time, including claims later released or timed out).
    pub jobs: i64,
}

/// `/models/{id}`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModelDetail {
    /// The model now (terms of its latest version).
    pub model: Row<Model>,
    /// Every version, oldest first: digests, seller, the EIP-712 signature and whether it recovers to the seller.
    pub versions: Vec<Row<ModelVersion>>,
    /// The latest version's manifest (`cairn.manifest/2` JSON from IPFS), once fetched.
    #[schema(value_type = Option<Object>)]
    pub manifest: Option<serde_json::Value>,
    /// `ready`, `fetching` (ask again shortly), `failed: <reason>` or `unavailable: <reason>`.
    pub manifest_status: String,
    /// Licences bought (the first 500, oldest first).
    pub licenses: Vec<Row<License>>,
    /// Whether there are more licences than listed.
    pub licenses_truncated: bool,
    /// Operators that served it.
    pub served_by: Vec<ServedBy>,
    /// Chain view.
    #[serde(flatten)]
    pub indexed: Indexed,
}

/// `/models/{id}`: a model with its versions, manifest, licences and operators.
#[utoipa::path(get, path = "/models/{id}", tag = "models",
    params(("id" = String, Path, description = "Model id (decimal)")),
    responses((status = 200, body = ModelDetail),
              (status = 400, body = ErrorBody, description = "`id` is not a decimal id"),
              (status = 404, body = ErrorBody, description = "No such model")))]
pub async fn one(
    State(api): State<Api>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<ModelDetail>> {
    Params::new(q, &[], false)?;
    let id = uint("id", &id)?;
    let view = api.view().await?;
    let Some((model, block)) = api.current::<Model>("models", &id).await? else {
        return Err(ApiError::NotFound(format!("no model {id} is indexed (up to block {})", view.indexed)));
    };
    let pool = api.app.store.pool();
    let rows = api
        .q(sqlx::query(
            "SELECT data, block_number FROM model_versions WHERE model_id = $1 AND superseded_block IS NULL ORDER BY version",
        )
        .bind(&id)
        .fetch_all(pool))
        .await?;
    let versions: Vec<Row<ModelVersion>> = rows
        .iter()
        .map(|r| Ok(Row { item: decode("model_versions", &r.get::<String, _>(0))?, meta: view.meta(r.get(1)) }))
        .collect::<ApiResult<_>>()?;
    let lookup = match versions.iter().find(|v| v.item.version == model.latest_version) {
        Some(v) => manifest::lookup(&api, &v.item.manifest_cid, &v.item.manifest_digest),
        None => manifest::Lookup { manifest: None, status: "unavailable: the latest version is not indexed".into() },
    };
    let rows = api
        .q(sqlx::query(
            "SELECT data, block_number FROM licenses WHERE model_id = $1 AND superseded_block IS NULL \
             ORDER BY created_block, created_log LIMIT $2",
        )
        .bind(&id)
        .bind((MAX_LIMIT + 1) as i64)
        .fetch_all(pool))
        .await?;
    let licenses_truncated = rows.len() > MAX_LIMIT;
    let licenses = rows
        .iter()
        .take(MAX_LIMIT)
        .map(|r| Ok(Row { item: decode("licenses", &r.get::<String, _>(0))?, meta: view.meta(r.get(1)) }))
        .collect::<ApiResult<_>>()?;
    let rows = api
        .q(sqlx::query(
            "SELECT operator, COUNT(DISTINCT id) FROM jobs WHERE model_id = $1 AND operator IS NOT NULL \
             GROUP BY operator ORDER BY operator",
        )
        .bind(&id)
        .fetch_all(pool))
        .await?;
    let served_by = rows.iter().map(|r| ServedBy { operator: r.get(0), jobs: r.get(1) }).collect();
    Ok(Json(ModelDetail {
        model: Row { item: model, meta: view.meta(block) },
        versions,
        manifest: lookup.manifest.map(|m| (*m).clone()),
        manifest_status: lookup.status,
        licenses,
        licenses_truncated,
        served_by,
        indexed: view.indexed(),
    }))
}
