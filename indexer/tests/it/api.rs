//! The HTTP API over a database built by following the seeded devnet (anvil): real operators, parameters,
//! trails and DID documents; named 400s and clear 404s; cursor pagination; CSV; the OpenAPI document;
//! `X-Indexed-Block`; health semantics; latency metrics; rate, size and method limits; CORS.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use alloy::{
    primitives::{Address, U256},
    providers::Provider,
};
use axum::{
    Router,
    body::Body,
    http::{HeaderMap, Method, Request, StatusCode, header},
};
use cairn_bindings::JobMarket;
use cairn_deploy::seed::{devnet_key, devnet_signer_key};
use cairn_indexer::{
    api::{self, ApiOptions, AppState},
    follower::Follower,
    metrics::Metrics,
    reputation,
    store::{Checkpoint, Store},
};
use serde_json::Value;
use tower::ServiceExt;

use crate::{Net, sqlite_url};

/// A response: status, headers, body (JSON when it parses, else the text as a JSON string).
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) text: String,
    pub(crate) json: Value,
}

/// Sends one request through the router.
pub(crate) async fn send(app: &Router, method: Method, uri: &str, body: Body, headers: &[(&str, &str)]) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let response = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()));
    Answer { status, headers, text, json }
}

/// GET `uri`.
pub(crate) async fn get(app: &Router, uri: &str) -> Answer {
    send(app, Method::GET, uri, Body::empty(), &[]).await
}

/// GET `uri`, expecting 200.
pub(crate) async fn ok(app: &Router, uri: &str) -> Value {
    let a = get(app, uri).await;
    assert_eq!(a.status, StatusCode::OK, "GET {uri}: {}", a.text);
    a.json
}

/// GET `uri`, expecting a 400 that names `parameter` and lists `allowed` among its allowed values.
pub(crate) async fn bad(app: &Router, uri: &str, parameter: &str, allowed: &str) {
    let a = get(app, uri).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "GET {uri}: {}", a.text);
    assert_eq!(a.json["parameter"], parameter, "GET {uri}: {}", a.text);
    let listed: Vec<&str> = a.json["allowed"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(listed.iter().any(|v| v.contains(allowed)), "GET {uri}: {allowed} not in {listed:?}");
    assert!(a.json["error"].as_str().unwrap().contains(parameter), "{}", a.text);
}

/// GET `uri`, expecting a 404 whose message contains `says`.
pub(crate) async fn missing(app: &Router, uri: &str, says: &str) {
    let a = get(app, uri).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "GET {uri}: {}", a.text);
    assert!(a.json["error"].as_str().unwrap().contains(says), "GET {uri}: {}", a.text);
}

/// Every item of a list, walking its pages `limit` at a time; asserts no item is served twice.
pub(crate) async fn walk(app: &Router, path: &str, limit: usize, key: &str) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut uri = format!("{path}{sep}limit={limit}");
    let mut all = Vec::new();
    let mut pages = 0;
    loop {
        let page = ok(app, &uri).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit);
        all.extend(items.iter().cloned());
        pages += 1;
        match page["nextCursor"].as_str() {
            Some(c) => {
                assert_eq!(items.len(), limit, "only a full page has a next one");
                uri = format!("{path}{sep}limit={limit}&cursor={c}");
            }
            None => break,
        }
        assert!(pages < 1000);
    }
    let keys: BTreeSet<String> = all.iter().map(|i| i[key].to_string()).collect();
    assert_eq!(keys.len(), all.len(), "{path}: an item was served twice");
    all
}

/// The API over `follower`'s store with `options`, reading manifests from `ipfs` when given.
pub(crate) fn app_with(
    net: &Net,
    follower: &Follower,
    metrics: Arc<Metrics>,
    ipfs: Option<cairn_ipfs::KuboClient>,
    options: ApiOptions,
) -> Router {
    api::app(AppState {
        store: follower.store().clone(),
        metrics,
        chain_id: net.deployments.chain_id,
        deployments: Arc::new(net.deployments.clone()),
        provider: Some(follower.provider().clone()),
        ipfs,
        options,
    })
}

/// The API over `follower`'s store, with a high rate limit and `finality_depth`.
pub(crate) fn app_for(net: &Net, follower: &Follower, metrics: Arc<Metrics>, finality_depth: u64) -> Router {
    let options = ApiOptions { finality_depth, rate_per_second: 100_000, ..ApiOptions::default() };
    app_with(net, follower, metrics, None, options)
}

#[tokio::test]
async fn serves_the_seeded_devnet_from_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    serves_the_seeded_devnet(&sqlite_url(&dir, "api.db")).await;
}

#[tokio::test]
async fn serves_the_seeded_devnet_from_postgres() {
    let pg = cairn_testkit::Postgres::start().await.unwrap();
    serves_the_seeded_devnet(pg.url()).await;
}

/// The seeded devnet, indexed into the database at `db` (a fresh SQLite file or PostgreSQL database), as the
/// API serves it.
async fn serves_the_seeded_devnet(db: &str) {
    let net = Net::start().await;
    let metrics = Arc::new(Metrics::new());
    let follower = net.follower_with(db, metrics.clone()).await;
    let indexed = crate::sync(&follower).await;
    // Five more blocks without Cairn logs: rows get confirmations, and with a finality depth of 2 they are final.
    let p = net.deployer.provider().clone();
    p.raw_request::<_, Value>("anvil_mine".into(), (U256::from(5),)).await.unwrap();
    let head = p.get_block_number().await.unwrap();
    let app = app_for(&net, &follower, metrics.clone(), 2);
    let checkpoint = follower.store().checkpoint().await.unwrap().unwrap();
    assert_eq!(checkpoint.number, indexed);

    // Operators: the three seeded operators and five verifiers, with their on-chain profile and reputation.
    let list = ok(&app, "/operators?limit=500").await;
    assert_eq!(list["indexedBlock"], indexed);
    assert_eq!(list["head"], head, "the head is the node's (this process does not follow)");
    assert!(list["nextCursor"].is_null());
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 8, "{list}");
    let op0 = devnet_key("operator-0").address();
    let op0_lower = op0.to_string().to_lowercase();
    let row = items.iter().find(|i| i["address"] == op0_lower.as_str()).expect("operator-0 listed");
    assert_eq!(row["endpoint"], "devnet://operator-0");
    assert_eq!(row["stake"], "13500000000000000000", "the seeded stake: 1 ETH minimum + 50 bonds at 0.25 ETH");
    assert_eq!(row["signer"], devnet_signer_key("operator-0").address().to_string().to_lowercase());
    assert_eq!(row["verifier"], false);
    let block = row["blockNumber"].as_i64().unwrap();
    assert_eq!(row["confirmations"].as_i64().unwrap(), head as i64 - block + 1);
    assert_eq!(row["final"], true, "5 blocks deep with a finality depth of 2");
    // reliability 0.5, stake 13.5 ETH (the factor caps at 10), age ~0: 1000 × 0.5 × (0.5 + 0.25) = 375.
    assert_eq!(row["reputation"]["score"], 375, "{row}");
    assert_eq!(row["reputation"]["reliability"], 0.5);
    assert_eq!(row["did"], format!("did:pkh:eip155:31337:{op0}"));
    let verifiers = ok(&app, "/operators?verifier=true").await;
    assert_eq!(verifiers["items"].as_array().unwrap().len(), 5);
    let region = row["region"].as_u64().unwrap();
    let same_region = ok(&app, &format!("/operators?region={region}")).await;
    assert!(same_region["items"].as_array().unwrap().iter().all(|i| i["region"] == region));
    assert!(same_region["items"].as_array().unwrap().iter().any(|i| i["address"] == op0_lower.as_str()));

    let detail = ok(&app, &format!("/operators/{op0}")).await;
    assert_eq!(detail["operator"]["address"], op0_lower.as_str());
    assert_eq!(detail["indexedBlock"], indexed);
    let history = detail["history"].as_array().unwrap();
    assert_eq!(history[0]["event"], "OperatorRegistered");
    assert_eq!(history[0]["txHash"].as_str().unwrap().len(), 66);
    assert!(history[0]["timestamp"].as_u64().unwrap() > 0);
    assert_eq!(history.last().unwrap()["blockNumber"], detail["operator"]["blockNumber"]);
    let op: cairn_indexer::entity::Operator = serde_json::from_value(history.last().unwrap()["value"].clone()).unwrap();
    assert_eq!(
        reputation::score(&op, 0).reliability,
        detail["operator"]["reputation"]["reliability"].as_f64().unwrap()
    );

    // Parameters: JobMarket's as set at deployment, equal to the contract's view.
    let params = ok(&app, "/params?contract=JobMarket&limit=500").await;
    let market = JobMarket::new(net.address("JobMarket"), &p).params().call().await.unwrap();
    let set = params["items"].as_array().unwrap().iter().find(|i| i["name"] == "params").expect("JobMarket params");
    assert_eq!(set["contract"], "JobMarket");
    assert_eq!(set["value"]["feeBps"], market.feeBps);
    assert_eq!(set["value"]["challengeBond"], market.challengeBond.to_string());
    assert_eq!(set["value"]["claimTimeout"], market.claimTimeout);

    // The DID document of an operator: account and signer keys, its runner endpoint from the chain.
    let did = format!("did:pkh:eip155:31337:{op0}");
    let a = send(&app, Method::GET, &format!("/did/{did}"), Body::empty(), &[("host", "ix.example:8080")]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.headers[header::CONTENT_TYPE], "application/did+ld+json");
    let doc = a.json;
    assert_eq!(doc["@context"][0], "https://www.w3.org/ns/did/v1");
    assert_eq!(doc["id"], did);
    let vm = &doc["verificationMethod"][0];
    assert_eq!(vm["id"], format!("{did}#blockchainAccountId"));
    assert_eq!(vm["type"], "EcdsaSecp256k1RecoveryMethod2020");
    assert_eq!(vm["controller"], did);
    assert_eq!(vm["blockchainAccountId"], format!("eip155:31337:{op0}"));
    assert_eq!(
        doc["verificationMethod"][1]["blockchainAccountId"],
        format!("eip155:31337:{}", devnet_signer_key("operator-0").address())
    );
    assert_eq!(doc["authentication"], serde_json::json!([format!("{did}#blockchainAccountId")]));
    assert_eq!(doc["assertionMethod"].as_array().unwrap().len(), 2);
    let services = doc["service"].as_array().unwrap();
    let runner = services.iter().find(|s| s["type"] == "CairnRunner").expect("runner service");
    assert_eq!(runner["serviceEndpoint"], "devnet://operator-0");
    assert_eq!(runner["id"], format!("{did}#runner"));
    let record = services.iter().find(|s| s["type"] == "CairnOperator").unwrap();
    assert_eq!(record["serviceEndpoint"], format!("http://ix.example:8080/operators/{op0_lower}"));
    // The lowercase form names the same document.
    assert_eq!(ok(&app, &format!("/did/did:pkh:eip155:31337:{op0_lower}")).await["id"], did);

    // An account trail, walked one event per page.
    let trail = walk(&app, &format!("/accounts/{op0}/trail"), 1, "logIndex").await;
    let whole = ok(&app, &format!("/accounts/{op0}/trail")).await;
    assert_eq!(whole["items"].as_array().unwrap().len(), trail.len());
    assert_eq!(trail[0]["event"], "OperatorRegistered");
    assert_eq!(trail[0]["contract"], "OperatorRegistry");
    assert!(trail[0]["roles"].as_array().unwrap().contains(&Value::from("operator")), "{}", trail[0]);
    assert_eq!(trail[0]["fields"]["endpoint"], "devnet://operator-0");
    let positions: Vec<(i64, i64)> =
        trail.iter().map(|t| (t["blockNumber"].as_i64().unwrap(), t["logIndex"].as_i64().unwrap())).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "in chain order: {positions:?}");

    // Pagination walks every operator once, in the order of the whole list, at any page size.
    for limit in [1, 3, 7] {
        let walked = walk(&app, "/operators", limit, "address").await;
        let addresses: Vec<&Value> = walked.iter().map(|i| &i["address"]).collect();
        let expected: Vec<&Value> = items.iter().map(|i| &i["address"]).collect();
        assert_eq!(addresses, expected, "limit {limit}");
    }

    // Newest first: the same operators, reversed, at any page size.
    for limit in [1, 4] {
        let walked = walk(&app, "/operators?order=desc", limit, "address").await;
        let addresses: Vec<&Value> = walked.iter().map(|i| &i["address"]).collect();
        let expected: Vec<&Value> = items.iter().rev().map(|i| &i["address"]).collect();
        assert_eq!(addresses, expected, "order=desc, limit {limit}");
    }
    bad(&app, "/operators?order=sideways", "order", "desc").await;

    // CSV: a header, then one row per operator, nested fields flattened.
    let a = get(&app, "/operators?format=csv&limit=500").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/csv"));
    let mut csv = csv::Reader::from_reader(a.text.as_bytes());
    let header_row = csv.headers().unwrap().clone();
    let col =
        |name: &str| header_row.iter().position(|h| h == name).unwrap_or_else(|| panic!("{name} in {header_row:?}"));
    let (addr_col, score_col, final_col) = (col("address"), col("reputation.score"), col("final"));
    let records: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 8);
    let r0 = records.iter().find(|r| r[addr_col] == op0_lower).unwrap();
    assert_eq!((&r0[score_col], &r0[final_col]), ("375", "true"));
    let a = get(&app, "/operators?format=csv&limit=3").await;
    assert_eq!(a.text.lines().count(), 4);
    assert!(a.headers.contains_key("x-next-cursor"));

    // Stats: no job yet; eight operators.
    let stats = ok(&app, "/stats").await;
    assert_eq!(stats["operators"], 8);
    assert_eq!(stats["jobsByState"], serde_json::json!({}));
    assert!(stats["medianSettleSeconds"].is_null());

    // X-Indexed-Block on every answer, errors included, equal to the body's indexedBlock.
    for uri in ["/operators", "/stats", "/health", "/models/999", "/nope", "/jobs?state=x"] {
        let a = get(&app, uri).await;
        assert_eq!(a.headers["x-indexed-block"].to_str().unwrap(), indexed.to_string(), "{uri}");
    }

    // 400s name the parameter and what it accepts.
    bad(&app, "/jobs?state=Bogus", "state", "Finalized").await;
    bad(&app, "/jobs?buyer=0x12", "buyer", "0x followed by 40 hex digits").await;
    bad(&app, "/jobs?model=abc", "model", "decimal").await;
    bad(&app, "/jobs?since=yesterday", "since", "seconds").await;
    bad(&app, "/jobs?since=10&until=5", "until", "since").await;
    bad(&app, "/operators?limit=0", "limit", "1..500").await;
    bad(&app, "/operators?limit=501", "limit", "1..500").await;
    bad(&app, "/operators?cursor=zz", "cursor", "nextCursor").await;
    bad(&app, "/operators?format=xml", "format", "csv").await;
    bad(&app, "/operators?verifier=yes", "verifier", "true").await;
    bad(&app, "/operators?colour=red", "colour", "verifier").await;
    bad(&app, "/params?contract=DevToken", "contract", "JobMarket").await;
    bad(&app, "/models/abc", "id", "decimal").await;
    bad(&app, "/jobs/-1", "id", "decimal").await;
    bad(&app, "/operators/0x12", "addr", "0x").await;
    bad(&app, "/accounts/nobody/trail", "addr", "0x").await;
    bad(&app, &format!("/did/did:pkh:eip155:1:{op0}"), "did", "did:pkh:eip155:31337:").await;
    bad(&app, "/did/did:web:example.com", "did", "did:pkh:eip155:").await;

    // 404s say what is missing.
    missing(&app, "/models/999", "no model 999").await;
    missing(&app, "/jobs/999", "no job 999").await;
    missing(&app, "/disputes/999", "no dispute 999").await;
    missing(&app, "/operators/0x0000000000000000000000000000000000000001", "not a registered operator").await;
    let buyer = devnet_key("buyer").address();
    missing(&app, &format!("/did/did:pkh:eip155:31337:{buyer}"), "neither a seller nor an operator").await;
    missing(&app, &format!("/accounts/{}/trail", Address::repeat_byte(7)), "no indexed event").await;
    missing(&app, "/nope", "/jobs/{id}").await;

    // The OpenAPI document: generated, OpenAPI 3, every route, the reputation formula in its description.
    let doc = ok(&app, "/openapi.json").await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{}", doc["openapi"]);
    let paths: BTreeSet<&str> = doc["paths"].as_object().unwrap().keys().map(String::as_str).collect();
    let routes: BTreeSet<&str> = api::ROUTES.iter().copied().collect();
    assert_eq!(paths, routes);
    assert!(doc["info"]["description"].as_str().unwrap().contains(reputation::FORMULA));
    let jobs_params: Vec<&str> = doc["paths"]["/jobs"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in ["model", "buyer", "operator", "state", "since", "until", "cursor", "limit", "format"] {
        assert!(jobs_params.contains(&name), "{name} in {jobs_params:?}");
    }
    assert!(doc["components"]["schemas"]["Job"].is_object(), "schemas from the handlers' types");

    // Latency by matched route in the metrics.
    let text = get(&app, "/metrics").await.text;
    for route in ["/operators", "/operators/{addr}", "/did/{did}", "/jobs"] {
        let status = if route == "/jobs" { 400 } else { 200 };
        let needle =
            format!("cairn_indexer_api_request_duration_seconds_count{{route=\"{route}\",status=\"{status}\"}}");
        assert!(text.contains(&needle), "{needle} in:\n{text}");
    }
    assert!(text.contains("cairn_indexer_api_request_duration_seconds_bucket{"), "{text}");
}

/// An API over an empty store, without a chain.
fn bare_app(store: &Store, metrics: Arc<Metrics>, options: ApiOptions) -> Router {
    api::app(AppState {
        store: store.clone(),
        metrics,
        chain_id: 31337,
        deployments: Arc::new(cairn_chain::Deployments {
            chain_id: 31337,
            interface_version: cairn_chain::INTERFACE_VERSION,
            deployment_block: 0,
            deployer: Address::ZERO,
            owner: Address::ZERO,
            git_commit: String::new(),
            compiler: Value::Null,
            contracts: Default::default(),
        }),
        provider: None,
        ipfs: None,
        options,
    })
}

#[tokio::test]
async fn health_limits_and_cors() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&sqlite_url(&dir, "bare.db")).await.unwrap();
    let metrics = Arc::new(Metrics::new());
    let app = bare_app(&store, metrics.clone(), ApiOptions { rate_per_second: 100_000, ..ApiOptions::default() });
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();

    // A reader with nothing indexed is starting; once the writer's checkpoint is there it is ok.
    let h = get(&app, "/health").await;
    assert_eq!(
        (h.status, h.json["status"].as_str(), h.json["role"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("starting"), Some("reader"))
    );
    assert_eq!(h.json["indexedBlock"], -1);
    let mut conn = store.pool().acquire().await.unwrap();
    Store::set_checkpoint(&mut conn, &Checkpoint { number: 42, hash: format!("0x{}", "ab".repeat(32)) }, now)
        .await
        .unwrap();
    drop(conn);
    tokio::time::sleep(Duration::from_millis(150)).await; // past the view's 100 ms cache
    let h = get(&app, "/health").await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.text);
    assert_eq!((h.json["indexedBlock"].as_i64(), h.json["lag"].as_i64()), (Some(42), Some(0)));
    assert_eq!(h.headers["x-indexed-block"], "42");

    // A writer: starting before its first step, ok while it progresses, lagging (503, with the error) while it
    // retries, stopped after a fatal error.
    metrics.set_role(1);
    assert_eq!(get(&app, "/health").await.json["status"], "starting");
    metrics.progress(now);
    let h = get(&app, "/health").await;
    assert_eq!(
        (h.status, h.json["status"].as_str(), h.json["role"].as_str()),
        (StatusCode::OK, Some("ok"), Some("writer"))
    );
    metrics.error(now, "RPC eth_getLogs at http://node: connection refused".into());
    let h = get(&app, "/health").await;
    assert_eq!((h.status, h.json["status"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("lagging")));
    assert!(h.json["lastError"].as_str().unwrap().contains("connection refused"));
    metrics.progress(now);
    assert_eq!(get(&app, "/health").await.status, StatusCode::OK, "progress clears the error");
    metrics.progress(now - 3600);
    assert_eq!(get(&app, "/health").await.json["status"], "lagging", "no progress for an hour");
    metrics.set_role(-1);
    let h = get(&app, "/health").await;
    assert_eq!((h.status, h.json["status"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("stopped")));

    // Read-only: other methods are refused; a body over the limit is refused before it is read.
    assert_eq!(send(&app, Method::POST, "/jobs", Body::empty(), &[]).await.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(send(&app, Method::DELETE, "/jobs/1", Body::empty(), &[]).await.status, StatusCode::METHOD_NOT_ALLOWED);
    let big = "x".repeat(20 * 1024);
    let len = big.len().to_string();
    let a = send(&app, Method::GET, "/stats", Body::from(big), &[("content-length", &len)]).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", a.text);

    // CORS: any origin may read; preflights for GET are answered.
    let a = send(&app, Method::GET, "/stats", Body::empty(), &[("origin", "https://explorer.example")]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.headers["access-control-allow-origin"], "*");
    let a = send(
        &app,
        Method::OPTIONS,
        "/jobs",
        Body::empty(),
        &[("origin", "https://explorer.example"), ("access-control-request-method", "GET")],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.headers["access-control-allow-methods"].to_str().unwrap().contains("GET"));

    // The rate limit: 1 request per second per client, a burst of 2; the third is a 429 that says so.
    let limited =
        bare_app(&store, Arc::new(Metrics::new()), ApiOptions { rate_per_second: 1, ..ApiOptions::default() });
    assert_eq!(get(&limited, "/stats").await.status, StatusCode::OK);
    assert_eq!(get(&limited, "/stats").await.status, StatusCode::OK);
    let a = get(&limited, "/stats").await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{}", a.text);
    assert!(a.json["error"].as_str().unwrap().contains("at most 1 requests per second"), "{}", a.text);
    assert_eq!(a.headers["retry-after"], "1");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(get(&limited, "/stats").await.status, StatusCode::OK, "the bucket refills");
}

/// The web app at /app/: its files, its config.json (the deployment, the URLs given, the input limits), a
/// fragment route falling back to index.html, and a clear 404 when the app is not built.
#[tokio::test]
async fn serves_the_web_app_and_its_config() {
    use cairn_indexer::api::site::{WebApp, WebConfig};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&sqlite_url(&dir, "app.db")).await.unwrap();
    let jm: Address = "0x0165878a594ca255338adfa4d48449f69242eb8f".parse().unwrap();
    let deployments = cairn_chain::Deployments {
        chain_id: 31337,
        interface_version: cairn_chain::INTERFACE_VERSION,
        deployment_block: 7,
        deployer: Address::ZERO,
        owner: Address::ZERO,
        git_commit: String::new(),
        compiler: Value::Null,
        contracts: [(
            "JobMarket".to_string(),
            cairn_chain::deployments::Deployed { address: jm, block: 13, tx: Default::default() },
        )]
        .into(),
    };
    let site = dir.path().join("dist");
    std::fs::create_dir_all(site.join("assets")).unwrap();
    std::fs::write(site.join("index.html"), "<!doctype html><title>Cairn</title>").unwrap();
    std::fs::write(site.join("assets/app.js"), "console.log(1)").unwrap();
    let config = WebConfig::new(
        &deployments,
        "http://127.0.0.1:8545".into(),
        Some("http://127.0.0.1:8090/".into()),
        "http://127.0.0.1:8080/".into(),
    );
    let app = |dir: std::path::PathBuf| {
        let web_app = Some(WebApp { dir, config: config.clone() });
        bare_app(
            &store,
            Arc::new(Metrics::new()),
            ApiOptions { rate_per_second: 100_000, web_app, ..ApiOptions::default() },
        )
    };
    let served = app(site.clone());

    let c = ok(&served, "/app/config.json").await;
    assert_eq!(c["chainId"], 31337);
    assert_eq!(c["interfaceVersion"], cairn_chain::INTERFACE_VERSION);
    assert_eq!(c["contracts"]["JobMarket"].as_str().unwrap().parse::<Address>().unwrap(), jm);
    assert_eq!(c["relayUrl"], "http://127.0.0.1:8090", "the trailing slash is dropped");
    assert_eq!(c["gatewayUrl"], "http://127.0.0.1:8080", "the trailing slash is dropped");
    assert_eq!(c["indexerUrl"], "");
    let limits = &c["inputLimits"]["candle/bert-embed@1"];
    assert_eq!(limits["maxItems"], cairn_protocol::input::InputLimits::default().max_items);

    let index = get(&served, "/app/").await;
    assert_eq!((index.status, index.text.contains("<title>Cairn</title>")), (StatusCode::OK, true));
    let js = get(&served, "/app/assets/app.js").await;
    assert_eq!((js.status, js.text.as_str()), (StatusCode::OK, "console.log(1)"));
    assert!(js.headers["content-type"].to_str().unwrap().contains("javascript"));
    let fallback = get(&served, "/app/no/such/page").await;
    assert_eq!((fallback.status, fallback.text.contains("<title>Cairn</title>")), (StatusCode::OK, true));
    assert_eq!(get(&served, "/models").await.status, StatusCode::OK, "the API is still served beside the app");

    let unbuilt = app(dir.path().join("nothing-here"));
    let a = get(&unbuilt, "/app/").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.text.contains("make web"), "{}", a.text);
    assert_eq!(get(&unbuilt, "/app/config.json").await.status, StatusCode::OK);

    let none =
        bare_app(&store, Arc::new(Metrics::new()), ApiOptions { rate_per_second: 100_000, ..ApiOptions::default() });
    assert_eq!(get(&none, "/app/config.json").await.status, StatusCode::NOT_FOUND, "no --app-dir: no app");
}
