//! `/disputes` and `/disputes/{id}`.

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Path, Query, State},
    response::Response,
};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::{
    Api,
    common::{Indexed, ListParams, Page, Params, Row, Version, list_response, uint},
    error::{ApiError, ApiResult, ErrorBody},
};
use crate::{entity::Dispute, store::Val};

/// Dispute phases (`phase` filter).
pub const PHASES: &[&str] = &["Created", "Drawn", "Ruled"];

/// Filters of `/disputes`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DisputeFilters {
    /// The disputed job's id (decimal).
    pub job: Option<String>,
    /// Phase: Created, Drawn or Ruled.
    pub phase: Option<String>,
}

/// `/disputes`: disputes, oldest first.
#[utoipa::path(get, path = "/disputes", tag = "disputes", params(DisputeFilters, ListParams),
    responses((status = 200, body = Page<Row<Dispute>>, description = "A page of disputes (CSV with format=csv)"),
              (status = 400, body = ErrorBody, description = "A malformed parameter, named")))]
pub async fn list(State(api): State<Api>, Query(q): Query<HashMap<String, String>>) -> ApiResult<Response> {
    let p = Params::new(q, &["job", "phase"], true)?;
    let (limit, cursor, format) = (p.limit()?, p.seek()?, p.format()?);
    let mut filters = Vec::new();
    if let Some(job) = p.uint("job")? {
        filters.push(("job_id =", Val::from(job)));
    }
    if let Some(phase) = p.one_of("phase", PHASES)? {
        filters.push(("phase =", Val::from(phase)));
    }
    let view = api.view().await?;
    let (rows, next) = api.page::<Dispute>("disputes", &filters, cursor, limit).await?;
    let items = rows.into_iter().map(|(item, b)| Row { item, meta: view.meta(b) }).collect();
    list_response(Page { items, next_cursor: next, indexed: view.indexed() }, format)
}

/// `/disputes/{id}`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DisputeDetail {
    /// The dispute now: jurors, votes, evidence, ruling.
    pub dispute: Row<Dispute>,
    /// Every version (creation, draws, commits, reveals, evidence, ruling), oldest first.
    pub history: Vec<Version<Dispute>>,
    /// Chain view.
    #[serde(flatten)]
    pub indexed: Indexed,
}

/// `/disputes/{id}`: a dispute with its draws, votes, evidence, ruling and history.
#[utoipa::path(get, path = "/disputes/{id}", tag = "disputes",
    params(("id" = String, Path, description = "Dispute id (decimal, the committee's)")),
    responses((status = 200, body = DisputeDetail),
              (status = 400, body = ErrorBody, description = "`id` is not a decimal id"),
              (status = 404, body = ErrorBody, description = "No such dispute")))]
pub async fn one(
    State(api): State<Api>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<DisputeDetail>> {
    Params::new(q, &[], false)?;
    let id = uint("id", &id)?;
    let view = api.view().await?;
    let Some((dispute, block)) = api.current::<Dispute>("disputes", &id).await? else {
        return Err(ApiError::NotFound(format!("no dispute {id} is indexed (up to block {})", view.indexed)));
    };
    let history = api.versions::<Dispute>(&view, "disputes", &id).await?;
    Ok(Json(DisputeDetail { dispute: Row { item: dispute, meta: view.meta(block) }, history, indexed: view.indexed() }))
}
