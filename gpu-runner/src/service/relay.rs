//! The gasless relay (`[relay] listen`): what a browser needs to buy inference without Kubo's unauthenticated
//! RPC or ETH for gas.
//!
//! - `POST /relay/inputs?runtime=candle/bert-embed@1`, body = the input bytes: the size limit is enforced
//!   before the body is read (`[jobs] max_input_bytes`, 413), the input is checked against the runtime's
//!   format (400 naming what is wrong), then pinned; the answer is `{cid, sha256, size}` (`sha256` 0x-hex,
//!   the `inputDigest` to sign).
//! - `POST /relay/job-request`, body `{request, signature, permit?}`: a buyer-signed typed-data v2
//!   `JobRequest` (ERC-20 only, DESIGN.md) and an optional EIP-2612 permit. Refused with 400 and nothing
//!   sent: an expired deadline, an ETH request, a nonce that is not the buyer's next, a signature that does
//!   not recover to the buyer (an EOA; a contract wallet's ERC-1271 signature is left to the contract), and a
//!   request this runner would not claim (runtime, model allow/deny, token not served or fee below its
//!   minimum, region). Otherwise the runner's hot key posts `requestJobWithSig` and answers `{jobId, tx}`; a
//!   revert is a 400 with the contract's decoded error.
//!
//! The relay's pins expire (`[relay] input_ttl_secs` of chain time after the upload, extended to the claim
//! deadline of every job requested with the input, and to the settlement of a job this runner claimed with
//! it): see [`Inner::expire_relay_pins`].
//!
//! CORS is open to `[relay] allowed_origins` (default any: nothing here uses cookies); each client IP gets
//! `[relay] rate_per_second` requests per second (burst twice that), then 429.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    num::NonZeroU32,
    sync::Arc,
};

use alloy::{
    primitives::{Address, B256, Bytes, U256},
    providers::Provider,
};
use anyhow::Context as _;
use axum::{
    Json, Router,
    body::Bytes as Body,
    extract::{ConnectInfo, DefaultBodyLimit, Query, Request, State},
    http::{Method, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::post,
};
use cairn_bindings::job_market::IJobMarket;
use cairn_ipfs::AddOptions;
use cairn_primitives::Cid;
use cairn_protocol::{JobRequest, Runtime, typed};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::{Deserialize, Serialize};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::runner::Inner;
use crate::input::{InputLimits, parse_texts};

/// The least time a relayed request must leave to be claimed, seconds.
const MIN_DEADLINE_MARGIN: u64 = 120;

#[derive(Clone)]
struct Relay {
    inner: Arc<Inner>,
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

/// An error answer: `{ "error": "…" }` with a status.
struct Refusal(StatusCode, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

fn bad(message: impl Into<String>) -> Refusal {
    Refusal(StatusCode::BAD_REQUEST, message.into())
}

fn unavailable(e: impl std::fmt::Display) -> Refusal {
    Refusal(StatusCode::SERVICE_UNAVAILABLE, format!("{e:#}; try again later"))
}

/// Serves the relay on `listener` (bound at start) until the process ends.
pub(crate) fn serve(listener: tokio::net::TcpListener, inner: Arc<Inner>) {
    let config = &inner.cfg.config.relay;
    let rate = NonZeroU32::new(config.rate_per_second.max(1)).expect("at least 1");
    let burst = NonZeroU32::new(config.rate_per_second.max(1).saturating_mul(2)).expect("at least 2");
    // Checked when the config was loaded.
    let origins = inner.cfg.relay_origins.clone().map_or_else(AllowOrigin::any, AllowOrigin::list);
    let max_input = usize::try_from(inner.cfg.config.jobs.max_input_bytes).unwrap_or(usize::MAX);
    let relay = Relay { inner, limiter: Arc::new(RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))) };
    let app = Router::new()
        .route("/relay/inputs", post(inputs).layer(DefaultBodyLimit::max(max_input)))
        .route("/relay/job-request", post(job_request).layer(DefaultBodyLimit::max(64 << 10)))
        .layer(middleware::from_fn_with_state(relay.clone(), rate_limit))
        .layer(
            CorsLayer::new()
                .allow_origin(origins)
                .allow_methods([Method::POST, Method::OPTIONS])
                .allow_headers(tower_http::cors::Any),
        )
        .with_state(relay);
    let listen = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    tracing::info!(%listen, "serving the relay (/relay/inputs, /relay/job-request)");
    tokio::spawn(async move {
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(e) = axum::serve(listener, service).await {
            tracing::error!(error = %e, "the relay stopped");
        }
    });
}

/// Per-client-IP rate limit.
async fn rate_limit(State(relay): State<Relay>, req: Request, next: Next) -> Response {
    let ip = req.extensions().get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip());
    if relay.limiter.check_key(&ip).is_err() {
        let rate = relay.inner.cfg.config.relay.rate_per_second;
        return Refusal(StatusCode::TOO_MANY_REQUESTS, format!("more than {rate} requests per second; slow down"))
            .into_response();
    }
    next.run(req).await
}

#[derive(Deserialize)]
struct InputQuery {
    runtime: Option<String>,
}

/// What `/relay/inputs` answers.
#[derive(Serialize)]
struct Pinned {
    cid: String,
    /// sha256 of the bytes, 0x-hex: the request's `inputDigest`.
    sha256: B256,
    size: u64,
}

async fn inputs(
    State(relay): State<Relay>,
    Query(query): Query<InputQuery>,
    body: Body,
) -> Result<Json<Pinned>, Refusal> {
    let name = query.runtime.as_deref().unwrap_or(Runtime::BertEmbedV1.name());
    let Some(runtime) = Runtime::from_name(name) else {
        let known: Vec<&str> = Runtime::ALL.iter().map(|r| r.name()).collect();
        return Err(bad(format!("unknown runtime `{name}`; this relay takes inputs for {}", known.join(", "))));
    };
    let limits = InputLimits {
        max_total_bytes: usize::try_from(relay.inner.cfg.config.jobs.max_input_bytes).unwrap_or(usize::MAX),
        ..InputLimits::default()
    };
    match runtime {
        Runtime::BertEmbedV1 => {
            parse_texts(&body, &limits).map_err(|e| bad(format!("not an input for {runtime}: {e}")))?
        }
    };
    // The pin's expiry is journaled before the pin (its CID computed first): a pin the journal does not know
    // would never expire.
    let inner = &relay.inner;
    let now = inner.chain_time().await.map_err(unavailable)?;
    let _pins = inner.pins_lock.lock().await;
    let hashed = inner
        .kubo
        .add_bytes("input.json", body.to_vec(), AddOptions { only_hash: true, ..AddOptions::default() })
        .await
        .map_err(|e| unavailable(format!("cannot hash the input: {e}")))?;
    let expires = now.saturating_add(inner.cfg.config.relay.input_ttl_secs);
    inner.journal.relay_pinned(&hashed.cid.to_string(), expires).await.map_err(unavailable)?;
    let added = inner
        .kubo
        .add_bytes("input.json", body.to_vec(), AddOptions::default())
        .await
        .map_err(|e| unavailable(format!("cannot pin the input: {e}")))?;
    if added.cid != hashed.cid {
        return Err(unavailable(format!("Kubo pinned {} where it had hashed {}", added.cid, hashed.cid)));
    }
    tracing::info!(cid = %added.cid, bytes = added.size, expires, "relay: input pinned");
    Ok(Json(Pinned { cid: added.cid.to_string(), sha256: B256::from(added.sha256.0), size: added.size }))
}

/// A `JobRequest` as JSON (amounts as decimal or 0x strings).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RequestJson {
    buyer: Address,
    model_id: U256,
    version: u64,
    input_digest: B256,
    input_cid: String,
    token: Address,
    payment: U256,
    max_price_per_call: U256,
    deadline: u64,
    region_mask: U256,
    nonce: U256,
}

/// An EIP-2612 permit (deadline 0 or absent: none, an allowance pays).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PermitJson {
    deadline: U256,
    v: u8,
    r: B256,
    s: B256,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobRequestBody {
    request: RequestJson,
    signature: Bytes,
    #[serde(default)]
    permit: Option<PermitJson>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Posted {
    job_id: String,
    tx: B256,
}

async fn job_request(
    State(relay): State<Relay>,
    body: Result<Json<JobRequestBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, Refusal> {
    let Json(body) = body.map_err(|e| bad(format!("not a job request: {e}")))?;
    let inner = &relay.inner;
    let r = body.request;
    let request = JobRequest {
        buyer: r.buyer,
        modelId: r.model_id,
        version: r.version,
        inputDigest: r.input_digest,
        inputCid: r.input_cid,
        token: r.token,
        payment: r.payment,
        maxPricePerCall: r.max_price_per_call,
        deadline: r.deadline,
        regionMask: r.region_mask,
        nonce: r.nonce,
    };
    let now = inner.chain_time().await.map_err(unavailable)?;
    if request.deadline <= now {
        return Err(bad(format!(
            "the request's deadline {} has passed (chain time {now}); sign a new one",
            request.deadline
        )));
    }
    // A deadline nobody can meet would only buy the buyer a refund with the relay's gas.
    if request.deadline < now + MIN_DEADLINE_MARGIN {
        return Err(bad(format!(
            "the request's deadline {} leaves less than {MIN_DEADLINE_MARGIN} s to claim it (chain time {now}); sign one \
             at least {MIN_DEADLINE_MARGIN} s ahead",
            request.deadline
        )));
    }
    let balance = inner.chain.balance(inner.key.address()).await.map_err(unavailable)?;
    if balance < inner.cfg.min_gas_balance {
        return Err(unavailable(format!(
            "the relay's wallet is low on gas ({balance} wei, below its floor of {} wei): it keeps the rest for the jobs \
             it has claimed",
            inner.cfg.min_gas_balance
        )));
    }
    if request.token == Address::ZERO {
        return Err(bad("signed requests are ERC-20 only (DESIGN.md); pay ETH jobs with requestJob from a wallet"));
    }
    let next = inner.market.requestNonces(request.buyer).call().await.map_err(unavailable)?;
    if request.nonce != next {
        return Err(bad(format!(
            "nonce {} is not the buyer's next ({next}); sign again with nonce {next}",
            request.nonce
        )));
    }
    let domain = typed::domain(inner.chain.chain_id(), *inner.market.address());
    let has_code = !inner.chain.provider().get_code_at(request.buyer).await.map_err(unavailable)?.is_empty();
    if !has_code {
        match typed::recover(&request, &domain, &body.signature) {
            Ok(signer) if signer == request.buyer => {}
            Ok(signer) => {
                return Err(bad(format!(
                    "the signature is {signer}'s, not the buyer {}'s: sign the JobRequest with the buyer's key in \
                     JobMarket's EIP-712 domain",
                    request.buyer
                )));
            }
            Err(e) => return Err(bad(format!("the signature cannot be read: {e}"))),
        }
    }
    inner.would_claim(&request).await.map_err(|e| match e {
        WouldNot::Refuse(why) => bad(format!("this runner would not run this job: {why}")),
        WouldNot::Unavailable(e) => unavailable(e),
    })?;
    // An input this relay pinned stays pinned until the request's claim deadline (before it is sent: the job may
    // be claimed the moment it is mined).
    inner.journal.extend_relay_pin(&request.inputCid, request.deadline).await.map_err(unavailable)?;
    let permit = body.permit.unwrap_or_default();
    let permit = IJobMarket::Permit { deadline: permit.deadline, v: permit.v, r: permit.r, s: permit.s };
    let call = inner.market.requestJobWithSig(request, body.signature, permit);
    let sent = match inner.chain.send("requestJobWithSig", call.into_transaction_request()).await {
        Ok(sent) => sent,
        Err(e @ cairn_chain::Error::Reverted { .. }) => return Err(bad(e.to_string())),
        // Broadcast, its fate not known yet: signing again would pay twice. Say where to look instead.
        Err(cairn_chain::Error::ReceiptTimeout { tx, .. } | cairn_chain::Error::SendUnresolved { tx, .. }) => {
            let body = serde_json::json!({
                "status": "pending",
                "tx": tx,
                "hint": "the request was sent and may still be mined: look for this transaction (or the buyer's next \
                         request nonce) before signing again",
            });
            return Ok((StatusCode::ACCEPTED, Json(body)).into_response());
        }
        Err(e) => return Err(unavailable(e)),
    };
    let job = sent
        .decoded_log::<cairn_bindings::JobMarket::JobRequested>()
        .map(|e| e.jobId)
        .ok_or_else(|| unavailable("the transaction has no JobRequested event"))?;
    tracing::info!(job = %job, tx = %sent.transaction_hash, "relay: job requested");
    Ok(Json(Posted { job_id: job.to_string(), tx: sent.transaction_hash }).into_response())
}

/// Why the runner would not claim a request.
pub(crate) enum WouldNot {
    /// For good: the message says why.
    Refuse(String),
    /// The chain could not be read.
    Unavailable(anyhow::Error),
}

impl Inner {
    /// Releases the relay's expired pins: each is unpinned once no open job in this runner's journal runs on its
    /// input (a job it claimed keeps it until the job is finalized or ruled, then it goes at the next poll).
    ///
    /// Errors: a passing RPC, Kubo or journal failure; the rest is tried at the next poll.
    pub(crate) async fn expire_relay_pins(&self) -> anyhow::Result<()> {
        let pins = self.journal.relay_pins().await?;
        let Some((_, soonest)) = pins.first() else { return Ok(()) };
        let now = self.chain_time().await?;
        if *soonest > now {
            return Ok(());
        }
        // One at a time with the uploads (a re-upload of an expiring input must not lose its fresh pin) and with
        // jobs closing.
        let _pins = self.pins_lock.lock().await;
        for (cid, _) in pins.into_iter().take_while(|(_, at)| *at <= now) {
            if !self.journal.forget_expired_relay_pin(&cid, now).await? {
                continue;
            }
            let parsed: Cid = cid.parse().with_context(|| format!("journaled relay pin {cid:?}"))?;
            if self.kubo.is_pinned(&parsed).await.context("reading a pin")? {
                self.kubo.unpin(&parsed).await.with_context(|| format!("unpinning {cid}"))?;
            }
            tracing::info!(%cid, "relay: the input's pin expired; unpinned");
        }
        Ok(())
    }

    /// Whether this runner would claim a job made of `request`: the runtime served, the model allowed, the
    /// token served with an operator fee at its minimum, the operator's region allowed.
    pub(crate) async fn would_claim(&self, request: &JobRequest) -> Result<(), WouldNot> {
        let read = |e: alloy::contract::Error| WouldNot::Unavailable(anyhow::Error::new(e));
        let jobs = &self.cfg.config.jobs;
        let version = self.models.getVersion(request.modelId, request.version).call().await.map_err(read)?;
        if Runtime::from_id(version.runtime) != Some(Runtime::BertEmbedV1) {
            return Err(WouldNot::Refuse(format!("the model's runtime {} is not served", version.runtime)));
        }
        let model_id = u64::try_from(request.modelId).unwrap_or(u64::MAX);
        if (!jobs.models_allow.is_empty() && !jobs.models_allow.contains(&model_id))
            || jobs.models_deny.contains(&model_id)
        {
            return Err(WouldNot::Refuse(format!("model {} is not served here", request.modelId)));
        }
        let Some(min) = self.cfg.min_fee_tokens.get(&request.token) else {
            return Err(WouldNot::Refuse(format!("token {} is not served here", request.token)));
        };
        let fee_bps = self.market.params().call().await.map_err(read)?.feeBps;
        let protocol_fee = request.payment * U256::from(fee_bps) / U256::from(10_000);
        let fee = request.payment.saturating_sub(version.pricePerCall).saturating_sub(protocol_fee);
        if fee < *min {
            return Err(WouldNot::Refuse(format!(
                "the operator fee would be {fee} (payment {} − royalty {} − protocol fee {protocol_fee}), below this \
                 runner's minimum {min} for token {}",
                request.payment, version.pricePerCall, request.token
            )));
        }
        // As `JobMarket._request` fixes it: the asked regions within the model's (0: the model's).
        let mask =
            if request.regionMask.is_zero() { version.regionMask } else { request.regionMask & version.regionMask };
        let info = self.registry.operatorInfo(self.operator).call().await.map_err(read)?;
        if !mask.bit(usize::from(info.region)) {
            return Err(WouldNot::Refuse(format!("the region mask {mask:#x} leaves out this operator's region")));
        }
        Ok(())
    }
}
