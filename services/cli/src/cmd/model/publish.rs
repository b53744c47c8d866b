//! `cairn model publish <dir>` and `cairn model publish-version <id> <dir>`: check the folder and its card,
//! hash and add every file to Kubo in one streaming pass, sign the folder (OpenSSF Model Signing), pin the
//! files, the signature and the manifest, sign `ModelManifest` (EIP-712) and register.
//!
//! Nothing is half-done: nothing is registered unless every file, the signature and the manifest are pinned
//! (on every `--also-pin` node too). A rerun after any failure finishes the job without duplicates: the same
//! content gives the same CIDs (the manifest holds no timestamp; the OMS signature is deterministic, RFC 6979),
//! and a manifest this seller already registered is found in the registry's `ModelRegistered` events and
//! reported instead of registered twice.
//!
//! With `CAIRN_TIMINGS=1` in the environment, a publish that registers (or finds its registration) ends by
//! printing one line on stderr, `cairn-timings {"prepare":…,"add":…,"sign":…,"chain":…,"total":…}` in seconds:
//! checks and chain reads before the add; the one streaming hash+add pass; signing the folder and pinning the
//! bundle and the manifest (and any `--also-pin`); the registration (lookup, nonce, signature, gas quote,
//! send) until its receipt. `make bench` reads it (services/cli/benches/publish.rs).

use std::{path::PathBuf, sync::Arc, time::Instant};

use alloy::{
    primitives::{Address, B256, U256},
    providers::Provider,
    rpc::types::Filter,
    sol_types::SolEvent,
};
use anyhow::{Context as _, bail};
use cairn_bindings::ModelRegistry;
use cairn_ipfs::{AddOptions, AddProgress, Cid, KuboClient, Sha256Digest};
use cairn_protocol::{
    ModelManifest, RegionMask, Runtime,
    manifest::{FileEntry, Manifest},
    typed,
    units::parse_secs,
};
use clap::Args;
use serde::Serialize;

use crate::{
    Context, UsageError,
    cmd::{
        Market, TxView,
        model::{
            folder::{self, SIGNATURE_FILE},
            listing,
        },
    },
    output::{AmountView, TokenInfo},
};

/// The terms a listing carries (all optional for a new version: the current version's are kept).
#[derive(Debug, Clone, Args)]
pub struct TermsArgs {
    /// Royalty per job: ETH needs a unit (0.0001ether); ERC-20 amounts in whole tokens (2.5) or base units
    /// (2500000wei). Required for a new model.
    #[arg(long, value_name = "AMOUNT")]
    pub price_per_call: Option<String>,
    /// Payment token: ETH, a deployed token's symbol (DUSD on the devnet) or an address [default: ETH].
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Licence price, in the payment token (none: anyone may run jobs).
    #[arg(long, value_name = "AMOUNT", requires = "license_period")]
    pub license_price: Option<String>,
    /// Licence period, e.g. 30d, 12h, 3600.
    #[arg(long, value_name = "DURATION", requires = "license_price")]
    pub license_period: Option<String>,
    /// Regions the model may run in: EU, UK, CH, US, CA, BR, JP, KR, SG, IN, AU, OTHER, comma-separated, or
    /// ALL [default: ALL].
    #[arg(long, value_name = "REGIONS")]
    pub regions: Option<String>,
}

/// What to publish and how.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// The model folder (safetensors weights, config, tokenizer, README.md model card).
    pub dir: PathBuf,
    /// The runtime that runs the model.
    #[arg(long, default_value = "candle/bert-embed@1")]
    pub runtime: String,
    /// A JSON model card merged over the one read from README.md (the file wins, field by field).
    #[arg(long, value_name = "FILE")]
    pub card: Option<PathBuf>,
    /// Also pin everything on this Kubo RPC API (e.g. a pinning node you run); repeatable. Content stays
    /// available only while some node pins it.
    #[arg(long = "also-pin", value_name = "URL")]
    pub also_pin: Vec<String>,
    /// Check, hash and compute the CIDs (Kubo's only-hash) and show the transaction; pin, sign and send
    /// nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// List a new model.
///
/// Checks the folder (safetensors only, the runtime's files, no symlinks; VCS folders and caches skipped)
/// and the model card (from README.md's YAML front matter and the datasets it names, merged with --card),
/// then in one streaming pass hashes every file and adds it to Kubo (CIDv1, raw leaves), signs the folder
/// with an OpenSSF Model Signing bundle (model.sig), pins the files, the bundle and the manifest, signs the
/// listing (EIP-712 ModelManifest) and registers it after you confirm. A rerun after a failure finishes the
/// job: nothing is pinned or registered twice.
///
/// Examples:
///   cairn --account seller model publish ./all-MiniLM-L6-v2 --price-per-call 0.0001ether --regions EU,US
///   cairn model publish ./m --price-per-call 2.5 --token DUSD --license-price 25 --license-period 30d
///   cairn model publish ./m --price-per-call 0.0001ether --dry-run
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct PublishArgs {
    /// The folder and options.
    #[command(flatten)]
    pub source: SourceArgs,
    /// The terms.
    #[command(flatten)]
    pub terms: TermsArgs,
}

/// List a new version of your model (history is kept; open jobs keep their version).
///
/// Terms not given are the current version's. Everything else as `cairn model publish`.
///
/// Examples:
///   cairn --account seller model publish-version 1 ./all-MiniLM-L6-v2-v2
///   cairn model publish-version 7 ./m --price-per-call 0.0002ether --dry-run
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct PublishVersionArgs {
    /// The model.
    #[arg(value_parser = crate::cmd::model_id)]
    pub model: U256,
    /// The folder and options.
    #[command(flatten)]
    pub source: SourceArgs,
    /// The terms.
    #[command(flatten)]
    pub terms: TermsArgs,
}

impl PublishArgs {
    /// Runs it.
    ///
    /// Errors: see the module docs; each says what was wrong and that nothing was registered.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        if self.terms.price_per_call.is_none() {
            bail!(UsageError("a new model needs --price-per-call (e.g. 0.0001ether, or 2.5 with --token DUSD)".into()));
        }
        publish(ctx, None, self.source, self.terms).await
    }
}

impl PublishVersionArgs {
    /// Runs it.
    ///
    /// Errors: as `publish`; not the seller; a deprecated model.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        publish(ctx, Some(self.model), self.source, self.terms).await
    }
}

/// The listing's terms, resolved.
struct Terms {
    token: TokenInfo,
    price_per_call: U256,
    license_price: U256,
    license_period: u64,
    regions: RegionMask,
}

async fn resolve_terms(market: &Market, terms: &TermsArgs, current: Option<&super::Listing>) -> anyhow::Result<Terms> {
    let token = match (&terms.token, current) {
        (Some(t), _) => market.resolve_token(t).await?,
        (None, Some(l)) => market.token(l.terms.paymentToken).await?,
        (None, None) => TokenInfo::eth(),
    };
    let keep = |pick: fn(&super::Listing) -> U256| current.map_or(U256::ZERO, pick);
    let price_per_call = match &terms.price_per_call {
        Some(t) => token.parse(t)?,
        None => keep(|l| l.terms.pricePerCall),
    };
    let (license_price, license_period) = match (&terms.license_price, &terms.license_period) {
        (Some(p), Some(d)) => (token.parse(p)?, parse_secs(d).map_err(|e| UsageError(e.to_string()))?),
        _ => current.map_or((U256::ZERO, 0), |l| (l.terms.licensePrice, l.terms.licensePeriod)),
    };
    if license_price.is_zero() != (license_period == 0) {
        bail!(UsageError("a licence needs both a price and a period above zero (or neither)".into()));
    }
    let regions = match (&terms.regions, current) {
        (Some(r), _) => super::parse_regions(r)?,
        (None, Some(l)) => u64::try_from(l.terms.regionMask)
            .ok()
            .and_then(|m| RegionMask::from_bits(m).ok())
            .context("the current version's region mask")?,
        (None, None) => RegionMask::ALL,
    };
    Ok(Terms { token, price_per_call, license_price, license_period, regions })
}

/// What `publish` prints.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Published {
    /// True when nothing was sent because this seller had registered this manifest already.
    already_registered: bool,
    dry_run: bool,
    model_id: Option<String>,
    version: Option<u64>,
    seller: Address,
    root_cid: String,
    manifest_cid: String,
    manifest_digest: Sha256Digest,
    weights_digest: Sha256Digest,
    signature_cid: Option<String>,
    files: usize,
    bytes: u64,
    skipped: Vec<String>,
    price_per_call: AmountView,
    license_price: AmountView,
    license_period_seconds: u64,
    regions: String,
    pinned_on: Vec<String>,
    transaction: Option<TxView>,
}

/// Phase durations for `CAIRN_TIMINGS=1` (see the module docs); measured always, printed only when asked.
struct Timings {
    start: Instant,
    last: Instant,
    phases: Vec<(&'static str, f64)>,
}

impl Timings {
    fn new() -> Self {
        let now = Instant::now();
        Self { start: now, last: now, phases: Vec::new() }
    }

    /// Closes the phase `name` (from the end of the previous one until now).
    fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        self.phases.push((name, (now - self.last).as_secs_f64()));
        self.last = now;
    }

    /// Prints the `cairn-timings` line on stderr when `CAIRN_TIMINGS=1`.
    fn report(mut self) {
        if std::env::var_os("CAIRN_TIMINGS").is_none_or(|v| v != "1") {
            return;
        }
        self.phases.push(("total", self.start.elapsed().as_secs_f64()));
        let map: serde_json::Map<String, serde_json::Value> =
            self.phases.into_iter().map(|(k, v)| (k.to_owned(), v.into())).collect();
        eprintln!("cairn-timings {}", serde_json::Value::Object(map));
    }
}

async fn publish(ctx: &Context, model: Option<U256>, source: SourceArgs, terms: TermsArgs) -> anyhow::Result<()> {
    let mut timings = Timings::new();
    let runtime = Runtime::from_name(&source.runtime).ok_or_else(|| {
        let known: Vec<&str> = Runtime::ALL.iter().map(|r| r.name()).collect();
        UsageError(format!("unknown runtime `{}`; known: {}", source.runtime, known.join(", ")))
    })?;
    let folder = folder::scan(&source.dir, runtime)?;
    for s in &folder.skipped {
        ctx.out.note(&format!("not published: {s}"));
    }
    let card = super::card::read(ctx, &source.dir, source.card.as_deref())?;

    // Chain and seller: a dry run loads no key (it signs nothing).
    let market = if source.dry_run { Market::read(ctx).await? } else { Market::signing(ctx).await? };
    let seller = if source.dry_run {
        ctx.account_hint().context("a dry run still needs to know the seller: configure --keystore or --account")?
    } else {
        market.account()
    };
    let current = match model {
        Some(id) => {
            let l = listing(&market, id).await?;
            super::ensure_seller_is(id, &l, seller)?;
            Some(l)
        }
        None => None,
    };
    if let Some(l) = &current {
        // A new token with the old amounts would read them in the new token's units (10^14 wei is 10^8 DUSD).
        let switching = terms.token.is_some() && current.is_some();
        if switching
            && (terms.price_per_call.is_none() || (!l.terms.licensePrice.is_zero() && terms.license_price.is_none()))
        {
            bail!(UsageError(
                "--token on a new version needs the prices in the new token too: give --price-per-call (and \
                 --license-price with --license-period when the model sells licences)"
                    .into()
            ));
        }
    }
    let terms = resolve_terms(&market, &terms, current.as_ref()).await?;
    // Everything that can refuse is asked before anything is pinned: funds, the model-signing key.
    let key = if source.dry_run {
        None
    } else {
        ensure_funded(&market, seller).await?;
        Some(super::signing::load_key(ctx, seller).await?)
    };

    // Kubo: every file hashed and added in one pass; then the signature and the manifest.
    let api = &ctx.settings.ipfs_api;
    let kubo = super::fetch::kubo(ctx).await?;
    let options = AddOptions { pin: !source.dry_run, only_hash: source.dry_run };
    let bar = ctx.out.bytes_bar(folder.bytes, if source.dry_run { "hashing" } else { "hashing and adding" });
    let progress: Option<AddProgress> = bar.clone().map(|b| Arc::new(move |n| b.inc(n)) as AddProgress);
    timings.lap("prepare");
    let added =
        kubo.add_files("model", folder.files.clone(), options, progress).await.context("adding the files to Kubo")?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    timings.lap("add");
    let weights =
        added.files.iter().find(|f| f.path == runtime.weights_file()).context("the weights file was not added")?.sha256;
    let files: Vec<FileEntry> =
        added.files.iter().map(|f| FileEntry { path: f.path.clone(), size: f.size, sha256: f.sha256 }).collect();
    let mut manifest = Manifest::new(runtime, runtime.weights_file(), added.cid.clone(), files, card);
    // A dry run signs nothing, so it has no model signature and no manifest CID to show.
    let mut signature_cid = None;
    if let Some(key) = key {
        let name = manifest.card.name().to_owned();
        let signed = super::signing::sign(key, &name, &folder.dir, &added.files, &folder.skipped_paths).await?;
        let signature = kubo
            .add_bytes(SIGNATURE_FILE, signed.bundle.clone(), options)
            .await
            .context("adding the model signature to Kubo")?;
        manifest.model_signing = Some(signed.model_signing(signature.cid.clone()));
        signature_cid = Some(signature.cid);
    }
    manifest.check().context("the manifest written (a bug: please report it)")?;
    let manifest_bytes = manifest.to_json().into_bytes();
    let manifest_digest = Sha256Digest::of(&manifest_bytes);
    let manifest_added =
        kubo.add_bytes("manifest.json", manifest_bytes, options).await.context("adding the manifest to Kubo")?;

    let mut pinned_on = Vec::new();
    if !source.dry_run {
        pinned_on.push(api.value.clone());
        for url in &source.also_pin {
            let signature = signature_cid.as_ref().expect("signed when not a dry run");
            also_pin(ctx, url, &[&added.cid, signature, &manifest_added.cid]).await?;
            pinned_on.push(url.clone());
        }
    }
    timings.lap("sign");

    let mut shown = Published {
        already_registered: false,
        dry_run: source.dry_run,
        model_id: None,
        version: None,
        seller,
        root_cid: added.cid.to_string(),
        manifest_cid: manifest_added.cid.to_string(),
        manifest_digest,
        weights_digest: weights,
        signature_cid: signature_cid.as_ref().map(ToString::to_string),
        files: added.files.len(),
        bytes: folder.bytes,
        skipped: folder.skipped.clone(),
        price_per_call: terms.token.amount(terms.price_per_call),
        license_price: terms.token.amount(terms.license_price),
        license_period_seconds: terms.license_period,
        regions: terms.regions.to_string(),
        pinned_on,
        transaction: None,
    };

    // Registered already (a rerun after the transaction landed)? Report it, send nothing.
    if !source.dry_run
        && let Some((id, version)) = find_registered(&market, seller, model, manifest_digest, &terms).await?
    {
        shown.already_registered = true;
        shown.model_id = Some(id.to_string());
        shown.version = Some(version);
        timings.lap("chain");
        timings.report();
        return ctx.out.print(&shown, |s| {
            format!(
                "Already registered by {}: model {} version {} (manifest {}); nothing was sent.",
                s.seller,
                s.model_id.as_deref().unwrap_or("?"),
                s.version.unwrap_or_default(),
                s.manifest_cid
            )
        });
    }

    let registry_address = market.address("ModelRegistry")?;
    let registry = ModelRegistry::new(registry_address, market.chain.provider());
    let nonce = registry.nonces(seller).call().await.context("reading the seller's registry nonce")?;
    let deadline = market.now().await? + 3600;
    let listing = ModelManifest {
        seller,
        modelId: model.unwrap_or(U256::ZERO),
        manifestCid: manifest_added.cid.to_string(),
        manifestDigest: B256::from(manifest_digest.0),
        weightsDigest: B256::from(weights.0),
        runtime: runtime.id(),
        paymentToken: terms.token.address,
        pricePerCall: terms.price_per_call,
        licensePrice: terms.license_price,
        licensePeriod: terms.license_period,
        regionMask: terms.regions.to_u256(),
        nonce,
        deadline,
    };
    let summary = format!(
        "{} by {seller}\n  folder      {} ({} files, {} bytes; {} skipped)\n  root        {}\n  manifest    {} \
         (sha256 {manifest_digest})\n  weights     sha256 {weights}\n  signature   {} (OpenSSF Model Signing)\n  \
         runtime     {runtime}\n  price       {} per call\n  licence     {}\n  regions     {}\n",
        match model {
            Some(id) => format!("A new version of model {id}"),
            None => "A new model".to_string(),
        },
        folder.dir.display(),
        shown.files,
        shown.bytes,
        shown.skipped.len(),
        shown.root_cid,
        shown.manifest_cid,
        shown.signature_cid.as_deref().unwrap_or("(a dry run signs nothing)"),
        shown.price_per_call.human,
        if terms.license_price.is_zero() {
            "none needed".to_string()
        } else {
            format!("{} for {} s", shown.license_price.human, terms.license_period)
        },
        shown.regions,
    );
    if source.dry_run {
        ctx.out.note(&summary);
        ctx.out.note(
            "Dry run: nothing was pinned, signed or sent. The root CID and file digests are what publishing gives; the \
             manifest's differ once the model signature is added.",
        );
        return ctx.out.print(&shown, |s| format!("Dry run of {}: manifest {}", folder.dir.display(), s.manifest_cid));
    }
    let domain = typed::domain(market.chain.chain_id(), registry_address);
    let signed = market.sign_hash(&typed::digest(&listing, &domain)).await.context("signing the listing")?;
    let tx = registry.register(listing, signed.as_bytes().into()).into_transaction_request();
    let action = "register the model".to_string();
    let quote = market.quote(&action, &tx).await?;
    ctx.out
        .confirm(ctx.yes, &format!("{summary}  gas         {}\n", quote.line()))
        .context("the files, the model signature (model.sig) and the manifest are pinned, but nothing is registered")?;
    let (transaction, receipt) = market.send(ctx, &action, tx).await?;
    let event = receipt.decoded_log::<ModelRegistry::ModelRegistered>().context("no ModelRegistered in the receipt")?;
    shown.model_id = Some(event.modelId.to_string());
    shown.version = Some(event.version);
    shown.transaction = Some(transaction);
    timings.lap("chain");
    timings.report();
    ctx.out.print(&shown, |s| {
        let tx = s.transaction.as_ref().expect("sent");
        format!(
            "Published model {} version {}\n  manifest {} (sha256 {})\n  {}\nContent stays available only while a node \
             pins it: keep {} running, or add --also-pin <url> for a pinning node you run.",
            s.model_id.as_deref().unwrap_or("?"),
            s.version.unwrap_or_default(),
            s.manifest_cid,
            s.manifest_digest,
            tx.line(),
            s.pinned_on.join(", ")
        )
    })
}

/// Gas a registration takes at most, for the early funds check (a model registration measures ~290,000 in
/// BENCHMARKS.md; a long card's CID and a second version stay far below this).
const REGISTER_GAS_BOUND: u64 = 500_000;

/// Refuses, before anything is pinned, a seller who cannot pay the registration's gas.
///
/// Errors: the balance is below [`REGISTER_GAS_BOUND`] × the current max fee per gas.
async fn ensure_funded(market: &Market, seller: Address) -> anyhow::Result<()> {
    let fees = market.chain.provider().estimate_eip1559_fees().await.context("reading the gas price")?;
    let needed = U256::from(REGISTER_GAS_BOUND) * U256::from(fees.max_fee_per_gas);
    let have = market.chain.balance(seller).await?;
    if have < needed {
        bail!(
            "{seller} holds {}, less than the {} a registration may cost in gas; fund it first (nothing was pinned \
             or sent)",
            TokenInfo::eth().format(have),
            TokenInfo::eth().format(needed)
        );
    }
    Ok(())
}

/// Pins `cids` on the Kubo at `url` (it fetches them from the network).
///
/// Errors: the node does not answer or cannot pin; nothing is registered then.
async fn also_pin(ctx: &Context, url: &str, cids: &[&Cid]) -> anyhow::Result<()> {
    let kubo = KuboClient::new(url).with_context(|| format!("--also-pin {url}"))?;
    for cid in cids {
        ctx.out
            .spin(&format!("pinning {cid} on {url}"), kubo.pin(cid))
            .await
            .with_context(|| format!("pinning {cid} on {url} failed; nothing was registered (rerun to retry)"))?;
    }
    Ok(())
}

/// The model id and version under which `seller` registered the manifest with sha256 `digest` (for a new
/// version: of `model` only), if any, from the registry's `ModelRegistered` events since the deployment block
/// (filtered by the seller's topic). A registration of the same manifest with other terms is an error that
/// points to `update-terms` (a rerun with changed prices must not pass for done).
///
/// Errors: the node refuses the log query (public RPCs cap `eth_getLogs` ranges); the same manifest
/// registered with other terms.
async fn find_registered(
    market: &Market,
    seller: Address,
    model: Option<U256>,
    digest: Sha256Digest,
    terms: &Terms,
) -> anyhow::Result<Option<(U256, u64)>> {
    let mut filter = Filter::new()
        .address(market.address("ModelRegistry")?)
        .event_signature(ModelRegistry::ModelRegistered::SIGNATURE_HASH)
        .topic3(seller.into_word())
        .from_block(market.deployments.deployment_block);
    if let Some(id) = model {
        filter = filter.topic1(id);
    }
    let logs = market.chain.provider().get_logs(&filter).await.context(
        "reading the seller's registrations (eth_getLogs from the deployment block; a node that caps log ranges \
         refuses it)",
    )?;
    for log in logs {
        let Ok(event) = ModelRegistry::ModelRegistered::decode_log(&log.inner) else { continue };
        let l = &event.listing;
        if l.manifestDigest != B256::from(digest.0) {
            continue;
        }
        let same = l.paymentToken == terms.token.address
            && l.pricePerCall == terms.price_per_call
            && l.licensePrice == terms.license_price
            && l.licensePeriod == terms.license_period
            && l.regionMask == terms.regions.to_u256();
        if !same {
            bail!(
                "this manifest is registered already as model {} version {}, with other terms than these; change \
                 its terms with `cairn model update-terms` / `set-regions` (nothing was sent)",
                event.modelId,
                event.version
            );
        }
        return Ok(Some((event.modelId, event.version)));
    }
    Ok(None)
}
