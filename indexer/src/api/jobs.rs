//! `/jobs` and `/jobs/{id}`.

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
    common::{Indexed, ListParams, Page, Params, Row, list_response, uint},
    error::{ApiError, ApiResult, ErrorBody},
};
use crate::{
    entity::{Dispute, Job},
    store::Val,
};

/// Job states as the indexer names them (`state` filter).
pub const STATES: &[&str] = &["Requested", "Claimed", "Submitted", "Disputed", "Finalized", "Cancelled", "Resolved"];

/// Filters of `/jobs`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobFilters {
    /// Model id (decimal).
    pub model: Option<String>,
    /// Buyer address.
    pub buyer: Option<String>,
    /// Operator address (the operator holding or having held the current claim).
    pub operator: Option<String>,
    /// State: Requested, Claimed, Submitted, Disputed, Finalized, Cancelled or Resolved.
    pub state: Option<String>,
    /// Requested at or after this time, seconds since the epoch.
    pub since: Option<u64>,
    /// Requested at or before this time, seconds since the epoch.
    pub until: Option<u64>,
}

/// `/jobs`: jobs, oldest first, filtered by model, buyer, operator, state and request time.
#[utoipa::path(get, path = "/jobs", tag = "jobs", params(JobFilters, ListParams),
    responses((status = 200, body = Page<Row<Job>>, description = "A page of jobs (CSV with format=csv)"),
              (status = 400, body = ErrorBody, description = "A malformed parameter, named")))]
pub async fn list(State(api): State<Api>, Query(q): Query<HashMap<String, String>>) -> ApiResult<Response> {
    let p = Params::new(q, &["model", "buyer", "operator", "state", "since", "until"], true)?;
    let (limit, cursor, format) = (p.limit()?, p.seek()?, p.format()?);
    let mut filters = Vec::new();
    if let Some(model) = p.uint("model")? {
        filters.push(("model_id =", Val::from(model)));
    }
    if let Some(buyer) = p.address("buyer")? {
        filters.push(("buyer =", Val::from(buyer)));
    }
    if let Some(operator) = p.address("operator")? {
        filters.push(("operator =", Val::from(operator)));
    }
    if let Some(state) = p.one_of("state", STATES)? {
        filters.push(("state =", Val::from(state)));
    }
    let since = p.u64("since", "seconds since the Unix epoch")?;
    let until = p.u64("until", "seconds since the Unix epoch")?;
    if let (Some(s), Some(u)) = (since, until)
        && s > u
    {
        return Err(ApiError::bad(
            "until",
            format!("until ({u}) is before since ({s})"),
            &["a time at or after since"],
        ));
    }
    if let Some(s) = since {
        filters.push(("requested_at >=", Val::from(s)));
    }
    if let Some(u) = until {
        filters.push(("requested_at <=", Val::from(u)));
    }
    let view = api.view().await?;
    let (rows, next) = api.page::<Job>("jobs", &filters, cursor, limit).await?;
    let items = rows
        .into_iter()
        .map(|(mut item, b)| {
            item.transitions.clear(); // served by /jobs/{id}
            Row { item, meta: view.meta(b) }
        })
        .collect();
    list_response(Page { items, next_cursor: next, indexed: view.indexed() }, format)
}

/// One transition of a job: the event, where it is, and the job's state after it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Transition {
    /// The event, e.g. `JobClaimed`.
    pub event: String,
    /// Block number.
    pub block_number: i64,
    /// Log index in the block.
    pub log_index: i64,
    /// Transaction hash.
    pub tx_hash: String,
    /// Block timestamp, seconds since the epoch.
    pub timestamp: Option<u64>,
    /// head − blockNumber + 1.
    pub confirmations: i64,
    /// At or below the finalized block.
    pub r#final: bool,
    /// State after it.
    pub state: String,
    /// Close reason after it.
    pub close_reason: String,
    /// The operator holding the claim after it.
    pub operator: Option<String>,
    /// The receipt's output CID, once submitted.
    pub output_cid: Option<String>,
    /// The receipt's energy figure, millijoules.
    pub energy_millijoules: Option<u64>,
    /// The receipt's runner build (bytes32 hex).
    pub runner_build: Option<String>,
}

/// `/jobs/{id}`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobDetail {
    /// The job now.
    pub job: Row<Job>,
    /// Every transition, oldest first.
    pub transitions: Vec<Transition>,
    /// Its dispute, when challenged.
    pub dispute: Option<Row<Dispute>>,
    /// Chain view.
    #[serde(flatten)]
    pub indexed: Indexed,
}

/// `/jobs/{id}`: a job with every transition (block, transaction, log index, time) and its receipt.
#[utoipa::path(get, path = "/jobs/{id}", tag = "jobs",
    params(("id" = String, Path, description = "Job id (decimal)")),
    responses((status = 200, body = JobDetail),
              (status = 400, body = ErrorBody, description = "`id` is not a decimal id"),
              (status = 404, body = ErrorBody, description = "No such job")))]
pub async fn one(
    State(api): State<Api>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<JobDetail>> {
    Params::new(q, &[], false)?;
    let id = uint("id", &id)?;
    let view = api.view().await?;
    let Some((mut job, block)) = api.current::<Job>("jobs", &id).await? else {
        return Err(ApiError::NotFound(format!("no job {id} is indexed (up to block {})", view.indexed)));
    };
    let raw = std::mem::take(&mut job.transitions); // served once, enriched, as `transitions`
    // The receipt is set once, by `ResultSubmitted`: every transition from that one on carries it.
    let submitted = raw.iter().position(|t| t.event == "ResultSubmitted");
    let made = api.events_at(raw.iter().map(|t| (t.block_number, t.log_index))).await?;
    let transitions = raw
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let meta = view.meta(t.block_number);
            let receipt = job.receipt.as_ref().filter(|_| submitted.is_some_and(|s| i >= s));
            let (tx_hash, timestamp) = made.get(&(t.block_number, t.log_index)).cloned().unwrap_or_default();
            Transition {
                event: t.event.clone(),
                block_number: t.block_number,
                log_index: t.log_index,
                tx_hash,
                timestamp,
                confirmations: meta.confirmations,
                r#final: meta.r#final,
                state: t.state.clone(),
                close_reason: t.close_reason.clone(),
                operator: t.operator.clone(),
                output_cid: receipt.map(|r| r.output_cid.clone()),
                energy_millijoules: receipt.map(|r| r.energy_millijoules),
                runner_build: receipt.map(|r| r.runner_build.clone()),
            }
        })
        .collect();
    let dispute = match &job.dispute_id {
        Some(d) => api.current::<Dispute>("disputes", d).await?.map(|(item, b)| Row { item, meta: view.meta(b) }),
        None => None,
    };
    Ok(Json(JobDetail {
        job: Row { item: job, meta: view.meta(block) },
        transitions,
        dispute,
        indexed: view.indexed(),
    }))
}
