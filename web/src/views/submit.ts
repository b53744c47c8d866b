/**
 * Submit a job: the input (pasted sentences, or a JSON or text file) is checked against the runtime's limits
 * before anything is paid; a review shows every amount and warning; then the input is uploaded through the
 * relay (`/relay/inputs`, never Kubo's RPC) and the job is escrowed with a wallet-signed transaction, or, for
 * ERC-20 models, gasless: a signed `JobRequest` and EIP-2612 permit posted to the relay. The same checks and
 * words as `cairn job submit`.
 */
import { type Address, type Hex, maxUint256, parseEventLogs, parseSignature, parseUnits, zeroAddress } from 'viem';
import type { App } from '../app';
import { explain, send } from '../chain';
import { Plain } from '../config';
import { REGIONS, type Token, amount, duration, leastPayment, regions } from '../format';
import { devTokenAbi, jobMarketAbi, modelRegistryAbi } from '../generated/abi';
import { jobInput } from '../input';
import { sha256 } from '../output';
import { RUNTIMES, TYPES, cairnDomain } from '../typed';
import { actionButton, facts, fill, h, notice, progressLog } from '../ui';
import type { Job, ModelRow, Operator, Page } from './types';

/** A token whose minimum operator fee is 2^256 - 1 is being wound down by governance: `requestJob` refuses it. */
const WOUND_DOWN = (symbol: string) =>
  `The market takes no new jobs paid in ${symbol}: governance is winding the token down. Nothing was sent or paid; choose a model paid in another token.`;

const DEADLINES: [string, number][] = [['15 minutes', 900], ['1 hour', 3600], ['6 hours', 21_600], ['1 day', 86_400]];

/** Everything checked and computed before paying. */
interface Plan {
  buyer: Address;
  modelId: bigint;
  version: bigint;
  token: Token;
  bytes: Uint8Array;
  texts: string[];
  digest: Hex;
  payment: bigint;
  price: bigint;
  fee: bigint;
  deadline: bigint;
  deadlineSecs: number;
  regionMask: bigint;
  effective: bigint;
  gasless: boolean;
  allowance: bigint;
  warnings: string[];
}

export function submitPanel(app: App, el: HTMLElement, m: ModelRow, token: Token | null, operators: Operator[]) {
  const title = h('h2', { id: 'submit-h' }, 'Run a job');
  if (m.deprecated) {
    fill(el, title, h('p', {}, 'This model is deprecated and takes no new jobs.'));
    return;
  }
  if (!app.cfg.relayUrl) {
    fill(el, title, notice('warning', 'This deployment names no relay (the indexer\'s --app-relay-url), so the app cannot upload inputs: submit jobs with `cairn job submit`.'));
    return;
  }
  const runtime = RUNTIMES[m.runtime];
  const limits = runtime ? app.cfg.inputLimits[runtime] : undefined;
  if (!runtime || !limits) {
    fill(el, title, notice('warning', `This model runs a runtime this app cannot check inputs for (${m.runtime}); use an updated app or the CLI.`));
    return;
  }
  const sentences = h('textarea', { id: 'sentences', rows: 6, cols: 60, placeholder: 'One sentence per line, or a JSON list of strings' });
  const file = h('input', { id: 'input-file', type: 'file', accept: '.json,.txt,application/json,text/plain' });
  const pay = h('input', { id: 'pay', type: 'text', inputmode: 'decimal', size: 24, 'aria-describedby': 'pay-hint' });
  const payHint = h('p', { id: 'pay-hint', class: 'muted' });
  const deadline = h('select', { id: 'deadline' }, DEADLINES.map(([t, s]) => h('option', { value: String(s), selected: s === 3600 }, t)));
  const regionBoxes = REGIONS.map(([code, name], i) => ({ i, box: h('input', { type: 'checkbox', id: `region-${code}`, checked: true }), code, name }))
    .filter(({ i }) => (BigInt(m.regionMask) >> BigInt(i)) & 1n);
  const erc20 = m.paymentToken !== zeroAddress;
  const gasless = h('input', { type: 'checkbox', id: 'gasless', disabled: !erc20 });
  const again = h('input', { type: 'checkbox', id: 'again' });
  const review = h('div', { id: 'review', 'aria-live': 'polite' });
  const log = progressLog('progress');
  const progress = log.el;
  const out = h('div', { id: 'submit-result', 'aria-live': 'polite' });

  // The least payment, once the market's parameters are read.
  if (token) {
    Promise.all([
      app.reader.readContract({ address: app.address('JobMarket'), abi: jobMarketAbi, functionName: 'params' }),
      app.reader.readContract({ address: app.address('JobMarket'), abi: jobMarketAbi, functionName: 'tokenConfig', args: [m.paymentToken] }),
    ]).then(([p, t]) => {
      if (t.minOperatorFee === maxUint256) {
        fill(payHint, WOUND_DOWN(token.symbol));
        return;
      }
      const least = amount(leastPayment(BigInt(m.pricePerCall), BigInt(p.feeBps), t.minOperatorFee), token);
      if (!pay.value) pay.value = least.split(' ')[0];
      fill(payHint, `At least ${least}: the price per call, the ${Number(p.feeBps) / 100}% protocol fee and the operators' minimum. Operators pick jobs by their fee, so paying more gets a job claimed sooner.`);
    }).catch(() => {});
  }

  const plan = async (): Promise<Plan> => {
    const wallet = app.requireWallet();
    if (!token) throw new Plain(`The model's payment token ${m.paymentToken} cannot be read.`);
    const f = file.files?.[0];
    const raw = f ? new Uint8Array(await f.arrayBuffer()) : new TextEncoder().encode(sentences.value);
    if (!f && !sentences.value.trim()) throw new Plain('Write at least one sentence, or choose a file.');
    const { bytes, texts } = jobInput(raw, limits);
    const digest = await sha256(bytes);
    const jm = app.address('JobMarket');
    const registry = app.address('ModelRegistry');
    const modelId = BigInt(m.id);
    const model = await app.reader.readContract({ address: registry, abi: modelRegistryAbi, functionName: 'getModel', args: [modelId] });
    if (model.deprecated) throw new Plain(`Model ${m.id} was deprecated: it takes no new jobs.`);
    const v = await app.reader.readContract({ address: registry, abi: modelRegistryAbi, functionName: 'getVersion', args: [modelId, model.latestVersion] });
    if (v.paymentToken.toLowerCase() !== m.paymentToken.toLowerCase()) throw new Plain('The model changed its payment token; reload the page.');
    let payment: bigint;
    try {
      payment = parseUnits(pay.value.trim(), token.decimals);
    } catch {
      throw new Plain(`"${pay.value}" is not an amount of ${token.symbol}; write it like 0.002.`);
    }
    const [params, tokenConfig, canUse, maxBond] = await Promise.all([
      app.reader.readContract({ address: jm, abi: jobMarketAbi, functionName: 'params' }),
      app.reader.readContract({ address: jm, abi: jobMarketAbi, functionName: 'tokenConfig', args: [v.paymentToken] }),
      app.reader.readContract({ address: registry, abi: modelRegistryAbi, functionName: 'canUse', args: [modelId, wallet.account] }),
      app.reader.readContract({ address: jm, abi: jobMarketAbi, functionName: 'MAX_BOND' }),
    ]);
    if (tokenConfig.minOperatorFee === maxUint256) throw new Plain(WOUND_DOWN(token.symbol));
    const price = v.pricePerCall;
    const fee = (payment * BigInt(params.feeBps)) / 10_000n;
    // JobMarket refuses payment < price + fee(payment) + minimum; that holds exactly below the least payment.
    const least = leastPayment(price, BigInt(params.feeBps), tokenConfig.minOperatorFee);
    if (payment < least) {
      throw new Plain(
        `Paying ${amount(payment, token)} is below what this job needs: ${amount(least, token)} (price per call ${amount(price, token)} + protocol fee ${params.feeBps / 100}% + the operator's minimum ${amount(tokenConfig.minOperatorFee, token)}). Pay more so an operator is paid for the work.`,
      );
    }
    let allowance = 0n;
    if (v.paymentToken === zeroAddress) {
      const have = await app.reader.getBalance({ address: wallet.account });
      if (have < payment) throw new Plain(`Your account holds ${amount(have, token)}, less than the ${amount(payment, token)} to pay; fund it first.`);
    } else {
      const [have, allowed] = await Promise.all([
        app.reader.readContract({ address: v.paymentToken, abi: devTokenAbi, functionName: 'balanceOf', args: [wallet.account] }),
        app.reader.readContract({ address: v.paymentToken, abi: devTokenAbi, functionName: 'allowance', args: [wallet.account, jm] }),
      ]);
      if (have < payment) throw new Plain(`Your account holds ${amount(have, token)}, less than the ${amount(payment, token)} to pay.`);
      allowance = allowed;
    }
    if (!canUse) throw new Plain(`Your account holds no licence of model ${m.id}: buy one above first.`);
    const bond = await app.reader.readContract({ address: jm, abi: jobMarketAbi, functionName: 'bondFor', args: [v.paymentToken, payment] });
    if (bond > maxBond) throw new Plain(`A job paying ${amount(payment, token)} needs an operator bond above the market's largest; split the input into smaller jobs.`);
    // The boxes come from the indexer's record; the chain's mask decides (a region it dropped is refused).
    const asked = regionBoxes.filter((r) => r.box.checked).reduce((acc, r) => acc | (1n << BigInt(r.i)), 0n);
    if (asked === 0n) throw new Plain('Choose at least one region the job may run in.');
    const chosen = asked & v.regionMask;
    if (chosen !== asked) throw new Plain(`The model now runs only in ${regions(v.regionMask)}; reload the page and choose among them.`);
    const all = chosen === BigInt(v.regionMask);
    const deadlineSecs = Number(deadline.value);
    if (deadlineSecs > Number(params.maxDeadline)) throw new Plain(`The market lets operators claim for at most ${duration(Number(params.maxDeadline))}; choose a shorter deadline.`);
    const now = await app.now();
    const wantGasless = gasless.checked;
    if (wantGasless && v.paymentToken === zeroAddress) throw new Plain('Gasless jobs are for ERC-20 models only (a permit replaces the payment).');
    // A rerun after a crash or a lost answer: an open job of this buyer for this model and input is the answer,
    // not a second payment (as `cairn job submit` does; tick "pay for another job" to pay again).
    if (!again.checked) {
      const open = await app.api<Page<Job>>(`/jobs?buyer=${wallet.account}&model=${m.id}&limit=500`).catch(() => null);
      const same = open?.items.find((j) => j.inputDigest.toLowerCase() === digest && ['Requested', 'Claimed', 'Submitted', 'Disputed'].includes(j.state));
      if (same) {
        throw new Plain(`You already have job ${same.id} (${same.state}) for this input and model: nothing was paid. Follow it at #/jobs/${same.id}, or tick "Pay for another job with the same input".`);
      }
    }
    const warnings = ['Inputs on IPFS are public: anyone with the CID can read these sentences.'];
    const served = operators.filter((o) => (chosen >> BigInt(o.region)) & 1n);
    if (!served.length) warnings.push(`No registered operator runs in ${regions(chosen)}: the job may wait until its deadline and be refunded.`);
    return {
      buyer: wallet.account, modelId, version: BigInt(model.latestVersion), token, bytes, texts, digest, payment, price, fee,
      deadline: BigInt(now + deadlineSecs), deadlineSecs, regionMask: all ? 0n : chosen, effective: chosen, gasless: wantGasless,
      allowance, warnings,
    };
  };

  const upload = async (p: Plan): Promise<string> => {
    let response: Response;
    try {
      response = await fetch(`${app.cfg.relayUrl}/relay/inputs?runtime=${encodeURIComponent(runtime)}`, {
        method: 'POST', body: p.bytes as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'application/json' },
      });
    } catch (e) {
      throw new Plain(`The relay at ${app.cfg.relayUrl} cannot be reached (${(e as Error).message}); nothing was paid.`);
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Plain(`The relay refused the input: ${body.error ?? `HTTP ${response.status}`}. Nothing was paid.`);
    if (String(body.sha256).toLowerCase() !== p.digest) {
      throw new Plain(`The relay pinned the input with digest ${body.sha256}, not the ${p.digest} computed here; nothing was paid.`);
    }
    return String(body.cid);
  };

  const submitGasless = async (p: Plan, cid: string, say: (t: string) => void): Promise<string> => {
    const wallet = app.requireWallet();
    const jm = app.address('JobMarket');
    const nonce = await app.reader.readContract({ address: jm, abi: jobMarketAbi, functionName: 'requestNonces', args: [p.buyer] });
    const message = {
      buyer: p.buyer, modelId: p.modelId, version: p.version, inputDigest: p.digest, inputCid: cid, token: p.token.address,
      payment: p.payment, maxPricePerCall: p.price, deadline: p.deadline, regionMask: p.regionMask, nonce,
    };
    say('Sign the job request in your wallet (no gas: the relay posts it).');
    const signature = await wallet.client.signTypedData({
      account: wallet.account, domain: cairnDomain(app.cfg.chainId, jm), types: { JobRequest: TYPES.JobRequest }, primaryType: 'JobRequest', message,
    });
    const { domain } = await app.reader.getEip712Domain({ address: p.token.address });
    const permitNonce = await app.reader.readContract({ address: p.token.address, abi: devTokenAbi, functionName: 'nonces', args: [p.buyer] });
    say(`Sign the permit letting the JobMarket take ${amount(p.payment, p.token)} in your wallet.`);
    const permitSig = await wallet.client.signTypedData({
      account: wallet.account,
      domain: { name: domain.name, version: domain.version, chainId: app.cfg.chainId, verifyingContract: p.token.address },
      types: { Permit: [
        { name: 'owner', type: 'address' }, { name: 'spender', type: 'address' }, { name: 'value', type: 'uint256' },
        { name: 'nonce', type: 'uint256' }, { name: 'deadline', type: 'uint256' },
      ] },
      primaryType: 'Permit',
      message: { owner: p.buyer, spender: jm, value: p.payment, nonce: permitNonce, deadline: p.deadline },
    });
    const { r, s, v, yParity } = parseSignature(permitSig);
    const body = {
      request: {
        buyer: p.buyer, modelId: p.modelId.toString(), version: Number(p.version), inputDigest: p.digest, inputCid: cid,
        token: p.token.address, payment: p.payment.toString(), maxPricePerCall: p.price.toString(), deadline: Number(p.deadline),
        regionMask: p.regionMask.toString(), nonce: nonce.toString(),
      },
      signature,
      permit: { deadline: p.deadline.toString(), v: Number(v ?? 27n + BigInt(yParity)), r, s },
    };
    say('Posting the signed request to the relay…');
    let response: Response;
    try {
      response = await fetch(`${app.cfg.relayUrl}/relay/job-request`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    } catch (e) {
      throw new Plain(`The relay at ${app.cfg.relayUrl} cannot be reached (${(e as Error).message}); check "My account" for the job before retrying.`);
    }
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Plain(`The relay refused the request: ${answer.error ?? `HTTP ${response.status}`}. Nothing was paid.`);
    if (!/^0x[0-9a-fA-F]{64}$/.test(String(answer.tx))) throw new Plain('The relay answered without a transaction; check "My account" before signing again.');
    // 202: the relay sent it but does not know yet whether it was mined; either way the transaction tells.
    say(response.status === 202
      ? `The relay sent it (${answer.tx}) but has not seen it mined (${answer.hint ?? 'pending'}); following it, do not sign again…`
      : `The relay posted it (${answer.tx}); waiting for it to be mined…`);
    let receipt;
    try {
      receipt = await app.reader.waitForTransactionReceipt({ hash: answer.tx, timeout: 180_000 });
    } catch {
      throw new Plain(`The relay's transaction ${answer.tx} was not mined within 3 minutes; check "My account" for the job before signing again, so nothing is paid twice.`);
    }
    if (receipt.status !== 'success') throw new Plain(`The relay's transaction ${answer.tx} reverted; nothing was paid (your permit was not used).`);
    const [requested] = parseEventLogs({ abi: jobMarketAbi, logs: receipt.logs, eventName: 'JobRequested' });
    if (!requested) throw new Plain(`The relay's transaction ${answer.tx} holds no JobRequested event; see "My account".`);
    return requested.args.jobId.toString();
  };

  const submitDirect = async (p: Plan, cid: string, say: (t: string) => void): Promise<string> => {
    const wallet = app.requireWallet();
    const jm = app.address('JobMarket');
    const isEth = p.token.address === zeroAddress;
    if (!isEth && p.allowance < p.payment) {
      await send(wallet, app.reader, `approve ${amount(p.payment, p.token)} for the JobMarket`, {
        address: p.token.address, abi: devTokenAbi, functionName: 'approve', args: [jm, p.payment],
      }, say);
    }
    const receipt = await send(wallet, app.reader, `request a job of model ${p.modelId}`, {
      address: jm, abi: jobMarketAbi, functionName: 'requestJob',
      args: [p.modelId, p.version, p.digest, cid, p.token.address, p.payment, p.price, p.deadline, p.regionMask],
      value: isEth ? p.payment : 0n,
    }, say);
    const [requested] = parseEventLogs({ abi: jobMarketAbi, logs: receipt.logs, eventName: 'JobRequested' });
    if (!requested) throw new Plain(`The request was mined (${receipt.transactionHash}) but has no JobRequested event; see "My account".`);
    return requested.args.jobId.toString();
  };

  const showReview = (p: Plan) => {
    const operatorShare = p.payment - p.price - p.fee;
    fill(
      review,
      h('h3', {}, 'Review'),
      facts([
        ['Input', `${p.texts.length} sentence(s), ${p.bytes.length} bytes, sha256 ${p.digest}`],
        ['You pay', `${amount(p.payment, p.token)}${p.gasless ? ' by a permit you sign (the relay pays the gas)' : ''}`],
        ['Which splits into', `price per call ${amount(p.price, p.token)} to the seller + protocol fee ${amount(p.fee, p.token)} + ${amount(operatorShare, p.token)} to the operator`],
        ['Regions', regions(p.effective)],
        ['Claim deadline', `${duration(p.deadlineSecs)} from now (unix ${p.deadline})`],
        ['Transactions', p.gasless ? 'none: two signatures (the request and the permit)'
          : p.token.address === zeroAddress ? '1 (the request, escrowing ETH)' : p.allowance < p.payment ? `2 (approve ${p.token.symbol}, then the request)` : '1 (the request)'],
      ]),
      p.warnings.map((w) => notice('warning', w)),
      actionButton(p.gasless ? 'Sign and submit (gasless)' : `Pay ${amount(p.payment, p.token)} and submit`, async () => {
        const say = log.say;
        const fresh = await plan(); // the chain may have moved since the review: check again, then pay
        const shown = (x: Plan) => [x.payment, x.price, x.fee, x.digest, x.version, x.effective, x.regionMask, x.deadlineSecs, x.gasless, x.token.address].join('|');
        if (shown(fresh) !== shown(p)) {
          showReview(fresh);
          throw new Plain('The terms or the input changed since the review: check the new review and confirm again.');
        }
        say('Uploading the input through the relay…');
        const cid = await upload(fresh);
        const id = fresh.gasless ? await submitGasless(fresh, cid, say) : await submitDirect(fresh, cid, say);
        fill(out, notice('ok', `Job ${id} requested. `, h('a', { href: `#/jobs/${id}` }, `Follow job ${id}`)));
        location.hash = `#/jobs/${id}`;
      }, explain, { id: 'confirm-submit' }, out),
    );
  };

  fill(
    el,
    title,
    h('form', { class: 'submit', onsubmit: (e: Event) => e.preventDefault() },
      h('label', { for: 'sentences' }, `Sentences (at most ${limits.maxItems}, ${limits.maxItemBytes} bytes each)`),
      sentences,
      h('label', { for: 'input-file' }, 'or a file (JSON list of strings, or text with one sentence per line)'),
      file,
      h('label', { for: 'pay' }, `Payment (${token?.symbol ?? 'token'})`),
      pay,
      payHint,
      h('label', { for: 'deadline' }, 'Operators may claim it within'),
      deadline,
      h('fieldset', {}, h('legend', {}, 'Regions it may run in'),
        regionBoxes.map(({ box, code, name }) => h('label', { class: 'inline' }, box, ` ${code} (${name})`))),
      h('label', { class: 'inline' }, gasless, erc20 ? ' Gasless: sign a request and a permit; the relay pays the gas' : ' Gasless (ERC-20 models only)'),
      h('label', { class: 'inline' }, again, ' Pay for another job with the same input (when you already have one open)'),
      actionButton('Review', async () => {
        fill(review);
        showReview(await plan());
      }, explain, { id: 'review-submit' }, out),
    ),
    review,
    progress,
    out,
  );
}
