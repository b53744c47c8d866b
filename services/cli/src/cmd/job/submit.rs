//! `cairn job submit`: checks an input for the model's runtime, pins it, and escrows a job for it with the
//! bounds the buyer saw (version, price per call, token; interfaces v2), so a listing changed in front of the
//! request reverts instead of running other weights or charging more.

use std::path::PathBuf;

use alloy::{
    primitives::{Address, B256, U256},
    providers::Provider as _,
    rpc::types::Filter,
    sol_types::SolEvent,
};
use anyhow::{Context as _, bail};
use cairn_bindings::{JobMarket, ModelRegistry, enums::job_state};
use cairn_ipfs::{AddOptions, KuboClient};
use cairn_protocol::{
    RegionMask, Runtime,
    input::{InputLimits, looks_like_json, parse_texts, texts_from_lines},
    units::parse_secs,
};
use clap::Args;
use serde::Serialize;

use super::{Indexer, TermsView, human_secs};
use crate::{
    Context, UsageError,
    cmd::{
        IERC20Permit, Market, Plan, TxView,
        model::{Listing, listing, parse_regions},
    },
    output::AmountView,
};

/// Pay for an inference job: the input is checked, pinned to IPFS and escrowed with the job.
///
/// The input is a JSON list of strings, or a plain text file with one sentence per line (converted to that
/// list). It is checked against the runtime's limits before anything is paid, pinned on your Kubo (inputs on
/// IPFS are public: anyone with the CID can read them), and its sha256 goes on chain with the job. The
/// payment covers the seller's price per call, the protocol fee and the operator's fee (the rest).
/// The model's latest version and current price are shown and sent as bounds: if the seller changes either
/// before the transaction lands, it reverts and nothing is paid. A rerun after a crash finds your open job
/// for the same input and model instead of paying twice (--again pays for another one).
///
/// Examples:
///   cairn --account buyer job submit --model 1 --input sentences.txt --pay 0.001ether
///   cairn job submit --model 1 --input in.json --pay 0.002ether --regions EU --deadline 30m --yes
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SubmitArgs {
    /// The model.
    #[arg(long, value_parser = crate::cmd::model_id)]
    pub model: U256,
    /// The input: a JSON list of strings, or a text file with one sentence per line.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// What you pay, escrowed until the result is final. ETH needs a unit (0.001ether); ERC-20 amounts are in
    /// whole tokens (12.5) or base units (12500000wei).
    #[arg(long, value_name = "AMOUNT")]
    pub pay: String,
    /// The version to run; must be the latest (default: the latest, shown before paying).
    #[arg(long)]
    pub version: Option<u64>,
    /// Highest price per call you accept (default: the current one, shown before paying).
    #[arg(long, value_name = "AMOUNT")]
    pub max_price_per_call: Option<String>,
    /// The token you pay in: ETH, a deployed token's symbol or an address (default: the model's; another one
    /// is refused).
    #[arg(long)]
    pub token: Option<String>,
    /// How long operators may take to claim the job, e.g. 30m, 2h (default 1h; at most the market's
    /// maxDeadline). After it an unclaimed job can be cancelled and refunded.
    #[arg(long, value_name = "DURATION", default_value = "1h")]
    pub deadline: String,
    /// Regions operators may claim from, e.g. EU,US (default: the model's).
    #[arg(long)]
    pub regions: Option<String>,
    /// Pay for a new job even when you already have an open job for this input and model.
    #[arg(long)]
    pub again: bool,
    /// Read --input as plain text (one sentence per line) even when it starts like JSON (`[`, `{` or `"`).
    #[arg(long)]
    pub text: bool,
    /// Pay without ETH for gas: the input is pinned by this relay (a `cairn-runner run` with `[relay] listen`)
    /// and the job is a typed-data `JobRequest` you sign, with an EIP-2612 permit for the payment, which the
    /// relay's operator posts. ERC-20 models only. E.g. --gasless http://runner.example:8090
    #[arg(long, value_name = "RELAY_URL")]
    pub gasless: Option<String>,
}

/// A submitted (or found) job, as printed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Submitted {
    job_id: String,
    /// `false` when an open job for the same input was found and nothing was paid.
    new: bool,
    input_cid: String,
    input_digest: B256,
    items: usize,
    terms: TermsView,
    price_per_call: AmountView,
    protocol_fee: AmountView,
    operator_fee: AmountView,
    transactions: Vec<TxView>,
    warnings: Vec<String>,
}

impl Submitted {
    /// What the job fixed on chain (`terms`, amounts in `token`) and how it came to be printed.
    #[allow(clippy::too_many_arguments)]
    fn of(
        job_id: U256,
        new: bool,
        input_cid: String,
        input_digest: B256,
        items: usize,
        terms: &cairn_bindings::job_market::IJobMarket::JobTerms,
        token: &crate::output::TokenInfo,
        transactions: Vec<TxView>,
        warnings: Vec<String>,
    ) -> Self {
        Self {
            job_id: job_id.to_string(),
            new,
            input_cid,
            input_digest,
            items,
            terms: TermsView::of(terms, token),
            price_per_call: token.amount(terms.royalty),
            protocol_fee: token.amount(terms.protocolFee),
            operator_fee: token.amount(terms.payment - terms.royalty - terms.protocolFee),
            transactions,
            warnings,
        }
    }
}

impl SubmitArgs {
    /// Runs it.
    ///
    /// Errors: an unreadable or invalid input (nothing pinned or paid); an unknown or deprecated model; a
    /// version that is not the latest; no licence; a price above --max-price-per-call; a payment below what
    /// the job needs; a token other than the model's; regions the model does not allow; short funds or
    /// allowance; the confirmation refused; a transaction that fails.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        // The input first: a bad file is refused before any connection, key or payment.
        let limits = InputLimits::default();
        let size = std::fs::metadata(&self.input)
            .with_context(|| format!("reading the input {}", self.input.display()))?
            .len();
        if size > limits.max_total_bytes as u64 {
            bail!(UsageError(format!(
                "{} is {size} bytes, more than a job's input may be ({} bytes); split it into several jobs",
                self.input.display(),
                limits.max_total_bytes
            )));
        }
        let raw = std::fs::read(&self.input).with_context(|| format!("reading the input {}", self.input.display()))?;
        let as_json = looks_like_json(&raw) && !self.text;
        let bytes = if as_json {
            raw
        } else {
            texts_from_lines(&raw).map_err(|e| UsageError(format!("{}: {e}", self.input.display())))?
        };
        let texts = parse_texts(&bytes, &limits).map_err(|e| {
            let hint = if as_json {
                " (it was read as JSON because it starts with `[`, `{` or `\"`; --text reads it as one sentence per line)"
            } else {
                ""
            };
            UsageError(format!("{} is not a valid job input: {e}{hint}", self.input.display()))
        })?;
        let deadline_secs = parse_secs(&self.deadline).map_err(|e| UsageError(format!("--deadline: {e}")))?;

        let market = Market::signing(ctx).await?;
        let buyer = market.account();
        let jm_address = market.address("JobMarket")?;
        let jm = JobMarket::new(jm_address, market.chain.provider());
        let registry = ModelRegistry::new(market.address("ModelRegistry")?, market.chain.provider());
        let Listing { model, version, terms } = listing(&market, self.model).await?;
        if model.deprecated {
            bail!("model {} is deprecated: it takes no new jobs (see `cairn model list`)", self.model);
        }
        if let Some(v) = self.version
            && v != version
        {
            bail!(
                "model {} is at version {version}; jobs run the latest version only. Drop --version or give \
                 --version {version}",
                self.model
            );
        }
        match Runtime::from_id(terms.runtime) {
            Some(Runtime::BertEmbedV1) => {}
            None => bail!(
                "model {} runs runtime {}, which this build of cairn cannot check inputs for; update cairn",
                self.model,
                terms.runtime
            ),
        }
        let token = market.token(terms.paymentToken).await?;
        if let Some(t) = &self.token {
            let asked = market.resolve_token(t).await?;
            if asked.address != token.address {
                bail!(
                    "model {} is paid in {}, not {}; drop --token or give --token {}",
                    self.model,
                    token.symbol,
                    asked.symbol,
                    token.symbol
                );
            }
        }
        let payment = token.parse(&self.pay)?;
        let price = terms.pricePerCall;
        let max_price = match &self.max_price_per_call {
            Some(text) => token.parse(text)?,
            None => price,
        };
        if price > max_price {
            bail!(
                "model {} costs {} per call, above your --max-price-per-call {}; raise it to pay this price",
                self.model,
                token.format(price),
                token.format(max_price)
            );
        }
        let params = jm.params().call().await.context("reading the market's parameters")?;
        let config = jm.tokenConfig(token.address).call().await.context("reading the token's settings")?;
        if config.minOperatorFee == U256::MAX {
            bail!(
                "the market takes no new jobs paid in {} (governance is winding the token down: its minimum \
                 operator fee is 2^256 - 1); nothing was sent",
                token.address
            );
        }
        let fee = payment * U256::from(params.feeBps) / U256::from(10_000u64);
        // U256's `+` wraps: a floor near 2^256 must read as a payment too low, never pass.
        let required = price.saturating_add(fee).saturating_add(config.minOperatorFee);
        if payment < required {
            bail!(
                "--pay {} is below what this job needs: {} (price per call {} + protocol fee {} bps + the \
                 operator's minimum {}); pay more so an operator is paid for the work",
                token.format(payment),
                token.format(required),
                token.format(price),
                params.feeBps,
                token.format(config.minOperatorFee)
            );
        }
        let asked_mask = match &self.regions {
            Some(text) => parse_regions(text)?,
            None => RegionMask(0),
        };
        let model_mask = RegionMask(u64::try_from(terms.regionMask).unwrap_or(RegionMask::ALL.0));
        let effective = if asked_mask.0 == 0 { model_mask } else { RegionMask(asked_mask.0 & model_mask.0) };
        if effective.0 == 0 {
            bail!(UsageError(format!(
                "model {} is served in {}; none of --regions {} is among them",
                self.model,
                codes(model_mask),
                self.regions.as_deref().unwrap_or_default()
            )));
        }
        let now = market.now().await?;
        if deadline_secs == 0 || deadline_secs > params.maxDeadline {
            bail!(UsageError(format!(
                "--deadline {} is outside 1 s..{}: the market lets operators claim for at most {}",
                self.deadline,
                params.maxDeadline,
                human_secs(params.maxDeadline)
            )));
        }
        // The claim deadline counts from the next block's time (the market checks it against the block that
        // includes the request).
        let deadline = now + deadline_secs;
        let digest = B256::from(cairn_primitives::Sha256Digest::of(&bytes).0);

        // A rerun after a crash: the open job for this input is the answer, not a second payment.
        if !self.again
            && let Some(id) = open_job_for(&market, buyer, self.model, digest, now).await?
        {
            let job = super::Job::read(&market, id).await?;
            let cid = job.input_cid(&market).await?;
            let warning = format!(
                "you already have job {id} ({}) for this input and model: nothing was paid; `cairn job status \
                     {id}` follows it, --again pays for another job",
                job.state()
            );
            let found =
                Submitted::of(id, false, cid, digest, texts.len(), &job.terms, &token, Vec::new(), vec![warning]);
            for w in &found.warnings {
                ctx.out.note(&format!("warning: {w}"));
            }
            return ctx.out.print(&found, |s| format!("Job {} (already submitted)", s.job_id));
        }

        if !registry.canUse(self.model, buyer).call().await.context("reading your licence")? {
            bail!(
                "{buyer} holds no licence of model {}: buy one first with `cairn license buy {}`",
                self.model,
                self.model
            );
        }
        let bond = jm.bondFor(token.address, payment).call().await.context("reading the job's bond")?;
        let max_bond = jm.MAX_BOND().call().await.context("reading the largest bond")?;
        if bond > max_bond {
            bail!(
                "a job paying {} needs an operator bond of {}, above the largest bond the market allows ({}); \
                 split the input into smaller jobs",
                token.format(payment),
                cairn_protocol::units::format_eth(bond),
                cairn_protocol::units::format_eth(max_bond)
            );
        }
        let mut warnings = vec!["inputs on IPFS are public: anyone with the CID can read these sentences".to_owned()];
        let dropped = RegionMask(asked_mask.0 & !model_mask.0);
        if dropped.0 != 0 {
            warnings.push(format!(
                "model {} is not served in {}: the job is open to {} only",
                self.model,
                codes(dropped),
                codes(effective)
            ));
        }
        if let Some(w) = region_warning(ctx, effective).await {
            warnings.push(w);
        }

        if let Some(relay) = &self.gasless {
            let g = Gasless { relay, bytes: &bytes, digest, deadline, payment, max_price, asked_mask, effective };
            return self.run_gasless(ctx, &market, &token, version, g, texts.len(), warnings).await;
        }
        let mut plan: Plan = Vec::new();
        let version_u64 = version;
        // Pinned below, after the confirmation; the CID is computed now (Kubo's only-hash) for the summary.
        let kubo = KuboClient::new(&ctx.settings.ipfs_api.value)
            .with_context(|| format!("the IPFS API {}", ctx.settings.ipfs_api.value))?;
        let preview = kubo
            .add_bytes("input.json", bytes.clone(), AddOptions { pin: false, only_hash: true })
            .await
            .with_context(|| format!("computing the input's CID on Kubo at {}", ctx.settings.ipfs_api.value))?;
        let cid = preview.cid.to_string();
        let request = |cid: &str| {
            jm.requestJob(
                self.model,
                version_u64,
                digest,
                cid.to_owned(),
                token.address,
                payment,
                max_price,
                deadline,
                U256::from(if asked_mask.0 == 0 { 0 } else { effective.0 }),
            )
        };
        if token.is_eth() {
            let have = market.chain.balance(buyer).await?;
            if have < payment {
                bail!("{buyer} holds {}, less than --pay {}; fund it first", token.format(have), token.format(payment));
            }
            plan.push((
                format!("request a job of model {}", self.model),
                request(&cid).value(payment).into_transaction_request(),
            ));
        } else {
            let erc20 = IERC20Permit::new(token.address, market.chain.provider());
            let have = erc20.balanceOf(buyer).call().await.context("reading your token balance")?;
            if have < payment {
                bail!("{buyer} holds {}, less than --pay {}", token.format(have), token.format(payment));
            }
            let allowance = erc20.allowance(buyer, jm_address).call().await.context("reading your allowance")?;
            if allowance < payment {
                plan.push((
                    format!("approve {} for the JobMarket", token.format(payment)),
                    erc20.approve(jm_address, payment).into_transaction_request(),
                ));
            }
            plan.push((format!("request a job of model {}", self.model), request(&cid).into_transaction_request()));
        }

        let operator_fee = payment - price - fee;
        let mut summary = format!(
            "Job of model {} version {version} (seller {})\n  input      {} ({} sentences, {} bytes)\n  input CID  \
             {cid}\n  sha256     {digest}\n  pay        {} = price per call {} + protocol fee {} + operator {}\n  \
             max price  {} per call\n  regions    {}\n  claim by   {} (unix seconds; {} from now)\n  buyer      {buyer}\n",
            self.model,
            model.seller,
            self.input.display(),
            texts.len(),
            bytes.len(),
            token.format(payment),
            token.format(price),
            token.format(fee),
            token.format(operator_fee),
            token.format(max_price),
            codes(effective),
            deadline,
            human_secs(deadline_secs),
        );
        for w in &warnings {
            summary += &format!("  warning    {w}\n");
        }
        summary += &market.plan_lines(&plan, 11).await?;
        ctx.out.confirm(ctx.yes, &summary)?;

        let added = ctx
            .out
            .spin("pinning the input", kubo.add_bytes("input.json", bytes.clone(), AddOptions::default()))
            .await
            .with_context(|| format!("pinning the input on Kubo at {}", ctx.settings.ipfs_api.value))?;
        if added.cid.to_string() != cid || B256::from(added.sha256.0) != digest {
            bail!("Kubo pinned the input as {} with another digest than computed; nothing was paid", added.cid);
        }
        let (transactions, last) = market.send_plan(ctx, plan).await?;
        let requested =
            last.decoded_log::<JobMarket::JobRequested>().context("the request's receipt has no JobRequested event")?;
        let submitted = Submitted::of(
            requested.jobId,
            true,
            cid,
            digest,
            texts.len(),
            &requested.terms,
            &token,
            transactions,
            warnings,
        );
        ctx.out.print(&submitted, |s| {
            format!(
                "Job {} requested: {} escrowed; follow it with `cairn job watch {}`",
                s.job_id, s.terms.payment.human, s.job_id
            )
        })
    }
}

/// What a gasless request needs from the checks before it.
struct Gasless<'a> {
    relay: &'a str,
    bytes: &'a [u8],
    digest: B256,
    deadline: u64,
    payment: U256,
    max_price: U256,
    asked_mask: RegionMask,
    effective: RegionMask,
}

impl SubmitArgs {
    /// `--gasless`: the relay pins the input, the buyer signs a `JobRequest` and a permit, the relay posts them.
    #[allow(clippy::too_many_arguments)]
    async fn run_gasless(
        &self,
        ctx: &Context,
        market: &Market,
        token: &crate::output::TokenInfo,
        version: u64,
        g: Gasless<'_>,
        items: usize,
        warnings: Vec<String>,
    ) -> anyhow::Result<()> {
        if token.is_eth() {
            bail!(UsageError(format!(
                "model {} is paid in ETH; --gasless is for ERC-20 models (the buyer signs a permit instead of sending \
                 gas). Drop --gasless",
                self.model
            )));
        }
        let buyer = market.account();
        let erc20 = IERC20Permit::new(token.address, market.chain.provider());
        let have = erc20.balanceOf(buyer).call().await.context("reading your token balance")?;
        if have < g.payment {
            bail!("{buyer} holds {}, less than --pay {}", token.format(have), token.format(g.payment));
        }
        let relay = g.relay.trim_end_matches('/');
        let mut summary = format!(
            "Gasless job of model {} version {version}\n  input      {} ({items} sentences, {} bytes), pinned by the \
             relay\n  sha256     {}\n  pay        {} (by a permit you sign; the relay's operator pays the gas)\n  \
             max price  {} per call\n  regions    {}\n  relay      {relay}\n",
            self.model,
            self.input.display(),
            g.bytes.len(),
            g.digest,
            token.format(g.payment),
            token.format(g.max_price),
            codes(g.effective),
        );
        for w in &warnings {
            summary += &format!("  warning    {w}\n");
        }
        ctx.out.confirm(ctx.yes, &summary)?;
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .context("building the HTTP client")?;
        let refused = |what: &str, status: reqwest::StatusCode, body: String| {
            let message = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned))
                .unwrap_or(body);
            anyhow::anyhow!("the relay refused {what} ({status}): {message}; nothing was paid")
        };
        let pinned = http
            .post(format!("{relay}/relay/inputs?runtime={}", Runtime::BertEmbedV1.name()))
            .body(g.bytes.to_vec())
            .send()
            .await
            .with_context(|| format!("cannot reach the relay at {relay}; nothing was paid"))?;
        let status = pinned.status();
        let text = pinned.text().await.context("reading the relay's answer")?;
        if !status.is_success() {
            return Err(refused("the input", status, text));
        }
        let pinned: serde_json::Value = serde_json::from_str(&text).context("the relay's answer is not JSON")?;
        let cid = pinned["cid"].as_str().context("the relay's answer has no cid")?.to_owned();
        if pinned["sha256"].as_str().map(str::to_lowercase) != Some(g.digest.to_string()) {
            bail!(
                "the relay pinned the input with another sha256 ({}) than computed here; nothing was paid",
                pinned["sha256"]
            );
        }
        let jm_address = market.address("JobMarket")?;
        let jm = JobMarket::new(jm_address, market.chain.provider());
        let nonce = jm.requestNonces(buyer).call().await.context("reading your request nonce")?;
        let region_mask = U256::from(if g.asked_mask.0 == 0 { 0 } else { g.effective.0 });
        let request = cairn_protocol::JobRequest {
            buyer,
            modelId: self.model,
            version,
            inputDigest: g.digest,
            inputCid: cid.clone(),
            token: token.address,
            payment: g.payment,
            maxPricePerCall: g.max_price,
            deadline: g.deadline,
            regionMask: region_mask,
            nonce,
        };
        let domain = cairn_protocol::typed::domain(market.chain.chain_id(), jm_address);
        let signature = market.sign_hash(&cairn_protocol::typed::digest(&request, &domain)).await?;
        let permit_deadline = U256::from(g.deadline);
        let (v, r, s) =
            crate::cmd::license::buy::sign_permit(market, token, jm_address, g.payment, permit_deadline).await?;
        let body = serde_json::json!({
            "request": {
                "buyer": buyer, "modelId": self.model.to_string(), "version": version, "inputDigest": g.digest,
                "inputCid": cid, "token": token.address, "payment": g.payment.to_string(),
                "maxPricePerCall": g.max_price.to_string(), "deadline": g.deadline,
                "regionMask": region_mask.to_string(), "nonce": nonce.to_string(),
            },
            "signature": alloy::primitives::Bytes::from(signature.as_bytes().to_vec()),
            "permit": { "deadline": permit_deadline.to_string(), "v": v, "r": r, "s": s },
        });
        let posted =
            http.post(format!("{relay}/relay/job-request")).json(&body).send().await.with_context(|| {
                format!("cannot reach the relay at {relay}; check `cairn job list` before retrying")
            })?;
        let status = posted.status();
        let text = posted.text().await.context("reading the relay's answer")?;
        if !status.is_success() {
            return Err(refused("the job request", status, text));
        }
        let posted: serde_json::Value = serde_json::from_str(&text).context("the relay's answer is not JSON")?;
        let job_id = posted["jobId"].as_str().context("the relay's answer has no jobId")?.to_owned();
        let job = super::Job::read(market, job_id.parse().context("the relay's jobId is not a number")?).await?;
        let submitted = Submitted::of(job.id, true, cid, g.digest, items, &job.terms, token, Vec::new(), warnings);
        ctx.out.print(&submitted, |s| {
            format!(
                "Job {} requested through the relay (tx {}): {} escrowed; follow it with `cairn job watch {}`",
                s.job_id,
                posted["tx"].as_str().unwrap_or("?"),
                s.terms.payment.human,
                s.job_id
            )
        })
    }
}

fn codes(mask: RegionMask) -> String {
    mask.regions().iter().map(|r| r.code()).collect::<Vec<_>>().join(",")
}

/// The buyer's newest open job of `model` for the input `digest` (claimed, submitted or disputed, or requested
/// and still claimable at `now`), from the JobMarket's `JobRequested` events (`buyer` and `model` are indexed
/// topics).
///
/// Errors: the chain.
async fn open_job_for(
    market: &Market,
    buyer: Address,
    model: U256,
    digest: B256,
    now: u64,
) -> anyhow::Result<Option<U256>> {
    let jm = JobMarket::new(market.address("JobMarket")?, market.chain.provider());
    let filter = Filter::new()
        .address(*jm.address())
        .event_signature(JobMarket::JobRequested::SIGNATURE_HASH)
        .topic2(buyer.into_word())
        .topic3(B256::from(model));
    let head = market.chain.provider().get_block_number().await.context("reading the chain head")?;
    let mut from = market.deployments.deployment_block;
    let mut found = Vec::new();
    while from <= head {
        let to = (from + cairn_chain::client::LOG_RANGE - 1).min(head);
        let logs = market
            .chain
            .provider()
            .get_logs(&filter.clone().from_block(from).to_block(to))
            .await
            .with_context(|| format!("reading your job requests in blocks {from}..={to}"))?;
        for log in logs {
            let event = log.log_decode::<JobMarket::JobRequested>().context("decoding a JobRequested log")?;
            if event.inner.data.terms.inputDigest == digest {
                found.push((event.inner.data.jobId, event.inner.data.terms.deadline));
            }
        }
        from = to + 1;
    }
    for (id, deadline) in found.into_iter().rev() {
        let progress = jm.getProgress(id).call().await.context("reading a job")?;
        let open = match progress.state {
            job_state::REQUESTED => now <= deadline,
            job_state::CLAIMED | job_state::SUBMITTED | job_state::DISPUTED => true,
            _ => false,
        };
        if open {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// A warning when the indexer knows of no registered operator in any of `mask`'s regions (nothing when the
/// indexer cannot be reached: the job may still be served).
async fn region_warning(ctx: &Context, mask: RegionMask) -> Option<String> {
    let indexer = Indexer::new(ctx).ok()?;
    for region in mask.regions() {
        let page = indexer.get(&format!("/operators?region={}&limit=1", region.bit())).await.ok()?;
        if page["items"].as_array().is_some_and(|items| !items.is_empty()) {
            return None;
        }
    }
    Some(format!(
        "no registered operator is in {} (per the indexer at {}): the job may stay unclaimed until its deadline",
        codes(mask),
        indexer.url()
    ))
}
