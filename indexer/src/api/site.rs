//! The buyers' web app (`web/`, built by `npm run build` into static files) served at `/app/`, and
//! `/app/config.json`: what the app needs to find the chain, the contracts, this indexer, the relay and an
//! IPFS gateway. The app refuses a deployment whose `interfaceVersion` it does not speak.
//!
//! Files come from `--app-dir` through tower-http's `ServeDir`; a path that names no file answers the app's
//! `index.html` (the app routes by URL fragment, so this only catches mistyped links). When the folder has no
//! `index.html` (the app was not built), `/app/` answers 404 saying how to build it.

use std::{collections::BTreeMap, path::PathBuf};

use alloy::primitives::Address;
use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Serialize;
use tower_http::services::{ServeDir, ServeFile};

/// Where the web app is and what its `config.json` says.
#[derive(Debug, Clone)]
pub struct WebApp {
    /// The built app (`web/dist`): `index.html` and `assets/`.
    pub dir: PathBuf,
    /// Served as `/app/config.json`.
    pub config: WebConfig,
}

/// `/app/config.json`: everything the browser app discovers at start.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebConfig {
    /// EIP-155 chain id the wallet must be on.
    pub chain_id: u64,
    /// A name for the chain, for `wallet_addEthereumChain`.
    pub chain_name: String,
    /// A JSON-RPC URL the browser can reach (reads, and `wallet_addEthereumChain`).
    pub rpc_url: String,
    /// Version of Cairn's contract interfaces deployed (`interfaceVersion()`).
    pub interface_version: u16,
    /// Contract addresses by name (`JobMarket`, `ModelRegistry`, …).
    pub contracts: BTreeMap<String, Address>,
    /// First block of the deployment.
    pub deployment_block: u64,
    /// The indexer's API base URL; empty: the origin that served the app.
    pub indexer_url: String,
    /// A runner's relay (`/relay/inputs`, `/relay/job-request`), or none: the app then cannot take inputs.
    pub relay_url: Option<String>,
    /// An IPFS HTTP gateway (`{gateway}/ipfs/{cid}`) for outputs, inputs and evidence.
    pub gateway_url: String,
    /// The input limits of each runtime (cairn-protocol's `InputLimits::to_json`), by runtime name.
    pub input_limits: BTreeMap<String, serde_json::Value>,
}

impl WebConfig {
    /// The app's configuration for `deployments`: the given URLs and cairn-protocol's input limits.
    pub fn new(
        deployments: &cairn_chain::Deployments,
        rpc_url: String,
        relay_url: Option<String>,
        gateway_url: String,
    ) -> Self {
        let limits = cairn_protocol::input::InputLimits::default();
        Self {
            chain_id: deployments.chain_id,
            chain_name: if deployments.chain_id == 31337 {
                "Cairn devnet (anvil)".into()
            } else {
                format!("chain {}", deployments.chain_id)
            },
            rpc_url,
            interface_version: deployments.interface_version,
            contracts: deployments.contracts.iter().map(|(name, d)| (name.clone(), d.address)).collect(),
            deployment_block: deployments.deployment_block,
            indexer_url: String::new(),
            relay_url: relay_url.map(|u| u.trim_end_matches('/').to_owned()),
            gateway_url: gateway_url.trim_end_matches('/').to_owned(),
            input_limits: BTreeMap::from([(cairn_protocol::Runtime::BertEmbedV1.name().to_owned(), limits.to_json())]),
        }
    }
}

/// The routes under `/app` (none when `app` is `None`: `/app` is then an unknown route).
pub(crate) fn routes<S: Clone + Send + Sync + 'static>(app: Option<&WebApp>) -> Router<S> {
    let Some(app) = app else { return Router::new() };
    let index = app.dir.join("index.html");
    let files = ServeDir::new(&app.dir).fallback(ServeFile::new(&index));
    let built = index.is_file();
    let router = Router::new().route("/app/config.json", get(config).with_state(app.config.clone()));
    if built {
        return router.nest_service("/app", files);
    }
    let dir = app.dir.display().to_string();
    let not_built = get(move || async move {
        let text = format!("the web app is not built in {dir}: run `make web` (npm ci and npm run build in web/)");
        (StatusCode::NOT_FOUND, text).into_response()
    });
    router.route("/app", not_built.clone()).route("/app/", not_built)
}

async fn config(State(config): State<WebConfig>) -> Response {
    Json(config).into_response()
}
