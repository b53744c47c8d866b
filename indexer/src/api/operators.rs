//! `/operators` and `/operators/{addr}`, with each operator's reputation ([`crate::reputation`]).

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
    common::{Indexed, ListParams, Page, Params, Row, Version, address, list_response},
    error::{ApiError, ApiResult, ErrorBody},
};
use crate::{
    entity::Operator,
    reputation::{self, Reputation},
    store::Val,
};

/// An operator now, with its reputation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OperatorView {
    /// The operator.
    #[serde(flatten)]
    pub operator: Operator,
    /// Its reputation, computed from this row at the newest indexed block's time.
    pub reputation: Reputation,
    /// Its DID (`did:pkh:eip155:<chainId>:<address>`), resolvable at `/did/{did}`.
    pub did: String,
}

impl Api {
    fn operator_view(&self, operator: Operator, now: u64) -> OperatorView {
        let reputation = reputation::score(&operator, now);
        let did = super::did::did_of(self.app.chain_id, &operator.address);
        OperatorView { operator, reputation, did }
    }
}

/// Filters of `/operators`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OperatorFilters {
    /// Region code (cairn-protocol's `Region`, 0–255).
    pub region: Option<u8>,
    /// Only verifiers, operators holding juror stake in the JurorPool (`true`), or only the others (`false`).
    pub verifier: Option<bool>,
}

/// `/operators`: every registered operator, oldest first, with its reputation.
#[utoipa::path(get, path = "/operators", tag = "operators", params(OperatorFilters, ListParams),
    responses((status = 200, body = Page<Row<OperatorView>>, description = "A page of operators (CSV with format=csv)"),
              (status = 400, body = ErrorBody, description = "A malformed parameter, named")))]
pub async fn list(State(api): State<Api>, Query(q): Query<HashMap<String, String>>) -> ApiResult<Response> {
    let p = Params::new(q, &["region", "verifier"], true)?;
    let (limit, cursor, format) = (p.limit()?, p.seek()?, p.format()?);
    let mut filters = Vec::new();
    if let Some(region) = p.u64("region", "a region code from 0 to 255")? {
        if region > 255 {
            return Err(ApiError::bad("region", format!("`{region}` is not a region code"), &["0..255"]));
        }
        filters.push(("region =", Val::from(region)));
    }
    if let Some(v) = p.bool("verifier")? {
        filters.push(("verifier =", Val::from(v)));
    }
    let view = api.view().await?;
    let (rows, next) = api.page::<Operator>("operators", &filters, cursor, limit).await?;
    let items =
        rows.into_iter().map(|(op, b)| Row { item: api.operator_view(op, view.now), meta: view.meta(b) }).collect();
    list_response(Page { items, next_cursor: next, indexed: view.indexed() }, format)
}

/// `/operators/{addr}`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OperatorDetail {
    /// The operator now, with its reputation.
    pub operator: Row<OperatorView>,
    /// Every version of the operator's record (registration, stake, profile, outcomes), oldest first.
    pub history: Vec<Version<Operator>>,
    /// Chain view.
    #[serde(flatten)]
    pub indexed: Indexed,
}

/// `/operators/{addr}`: an operator, its reputation and its history.
#[utoipa::path(get, path = "/operators/{addr}", tag = "operators",
    params(("addr" = String, Path, description = "Operator address")),
    responses((status = 200, body = OperatorDetail),
              (status = 400, body = ErrorBody, description = "`addr` is not an address"),
              (status = 404, body = ErrorBody, description = "Not a registered operator")))]
pub async fn one(
    State(api): State<Api>,
    Path(addr): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<OperatorDetail>> {
    Params::new(q, &[], false)?;
    let addr = address("addr", &addr)?;
    let view = api.view().await?;
    let Some((op, block)) = api.current::<Operator>("operators", &addr).await? else {
        return Err(ApiError::NotFound(format!(
            "{addr} is not a registered operator (indexed up to block {})",
            view.indexed
        )));
    };
    let history = api.versions::<Operator>(&view, "operators", &addr).await?;
    Ok(Json(OperatorDetail {
        operator: Row { item: api.operator_view(op, view.now), meta: view.meta(block) },
        history,
        indexed: view.indexed(),
    }))
}
