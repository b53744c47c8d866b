/**
 * One job, live: its state, operator and countdowns (from the indexer, or the chain when the indexer is
 * down), the buttons the contracts allow now (cancel, challenge, finalize), and, once a result is submitted,
 * the result checked in the browser: the output's sha256 against the receipt, the receipt's EIP-712 signature
 * against the operator's signer, the acceptance rule's format checks, then its shape and a cosine-similarity
 * heat map of the sentences.
 */
import { type Address, type Hex, getAddress } from 'viem';
import type { App } from '../app';
import { IndexerDown, fromGateway } from '../api';
import { explain, send } from '../chain';
import { Plain } from '../config';
import { ETH, amount, duration, isCid, regions, time } from '../format';
import { disputeDeskAbi, jobMarketAbi } from '../generated/abi';
import { parseTexts } from '../input';
import { type Embeddings, cosineMatrix, formatProblems, readEmbeddings, sha256 } from '../output';
import { RUNTIMES, type Receipt, receiptSigner } from '../typed';
import { actionButton, facts, fill, h, notice, progressLog } from '../ui';
import type { Job, JobDetail, OperatorDetail } from './types';

/** IJobMarket.JobState, in its order (0 = None: no such job). */
const STATES = ['None', 'Requested', 'Claimed', 'Submitted', 'Disputed', 'Finalized', 'Cancelled', 'Resolved'];
const CLOSE = ['Open', 'Finalized', 'Expired', 'OperatorUpheld', 'OperatorWrong', 'ArbitratorRefused', 'InputUnavailable'];
/** Largest output fetched for the heat map (bytes). */
const MAX_OUTPUT = 64 << 20;
const ZERO32 = `0x${'0'.repeat(64)}`;

/** The job from the chain (`getTerms`, `getProgress`), shaped as the indexer's, for when the indexer is down. */
async function fromChain(app: App, id: bigint): Promise<Job> {
  const jm = app.address('JobMarket');
  const [t, p] = await Promise.all([
    app.reader.readContract({ address: jm, abi: jobMarketAbi, functionName: 'getTerms', args: [id] }),
    app.reader.readContract({ address: jm, abi: jobMarketAbi, functionName: 'getProgress', args: [id] }),
  ]);
  if (p.state === 0) throw new Plain(`There is no job ${id} on chain.`);
  const zero = (a: Address) => (/^0x0+$/.test(a) ? null : a);
  return {
    id: id.toString(), modelId: t.modelId.toString(), modelVersion: Number(t.modelVersion), buyer: t.buyer, seller: t.seller,
    token: t.token, payment: t.payment.toString(), royalty: t.royalty.toString(), protocolFee: t.protocolFee.toString(),
    inputDigest: t.inputDigest, inputCid: '', regionMask: t.regionMask.toString(), deadline: Number(t.deadline),
    state: STATES[p.state] ?? String(p.state), closeReason: CLOSE[p.closeReason] ?? String(p.closeReason), operator: zero(p.operator),
    bond: p.bond.toString(), submitBy: Number(p.submitBy), receipt: null, challengeEnds: Number(p.challengeEnds),
    challenger: zero(p.challenger), disputeId: p.disputeId ? p.disputeId.toString() : null, split: null, requestedAt: 0,
    blockNumber: 0, confirmations: 0, final: false,
  };
}

export async function jobView(app: App, main: HTMLElement, idText: string) {
  if (!/^\d+$/.test(idText)) {
    fill(main, h('h1', {}, 'Job'), notice('error', `"${idText}" is not a job id (a number).`));
    return;
  }
  const id = BigInt(idText);
  // Only the state line is a live region, and it changes only when the state does (the rest refreshes every 2 s).
  const live = h('p', { class: 'state', id: 'job-state', 'aria-live': 'polite', 'aria-atomic': 'true' });
  const status = h('section', { id: 'job-status' });
  // The buttons are redrawn on every refresh; what an action said stays below them.
  const buttons = h('div', {});
  const log = progressLog();
  const out = h('div', { 'aria-live': 'polite' });
  const actions = h('section', { id: 'job-actions' }, buttons, log.el, out);
  const result = h('section', { id: 'job-result', 'aria-labelledby': 'result-h' });
  fill(main, h('h1', {}, `Job ${id}`), live, status, actions, result,
    h('p', {}, h('a', { href: `#/audit/job/${id}` }, 'The whole trail of this job')));
  let shownResult = '';
  let shownState = '';

  const refresh = async () => {
    let job: Job;
    let source = 'the indexer';
    let dispute: JobDetail['dispute'] = null;
    let submittedIn: bigint | undefined;
    try {
      const d = await app.api<JobDetail>(`/jobs/${id}`);
      job = d.job;
      dispute = d.dispute;
      const t = d.transitions.filter((x) => x.event === 'ResultSubmitted').at(-1);
      submittedIn = t ? BigInt(t.blockNumber) : undefined;
    } catch (e) {
      if (!(e instanceof IndexerDown)) {
        fill(status, notice('error', explain(e)));
        return;
      }
      job = await fromChain(app, id);
      source = 'the chain (the indexer cannot be reached; the history needs it)';
    }
    const [now, token] = await Promise.all([app.now(), app.token(job.token)]);
    const closed = ['Finalized', 'Cancelled', 'Resolved'].includes(job.state);
    const stateText = `State: ${job.state}${closed ? ` (${job.closeReason})` : ''}`;
    if (stateText !== shownState) {
      shownState = stateText;
      fill(live, stateText);
      live.className = `state state-${job.state}`;
      live.dataset.state = job.state;
    }
    const late = job.state === 'Claimed' && now > job.submitBy;
    const explanation: Record<string, string> = {
      Expired: 'Nobody claimed this job before its deadline: it was cancelled and the payment is refundable (withdraw it under "My account").',
      OperatorWrong: 'The jury ruled the operator\'s result wrong: you are refunded (withdraw under "My account") and the operator\'s bond was slashed.',
      ArbitratorRefused: 'The jury could not rule (too few jurors, or a tie): you are refunded (withdraw under "My account"); the operator kept its bond.',
      InputUnavailable: 'The jurors could not fetch this job\'s input, which the operator had to keep pinned: you are refunded (withdraw under "My account") and the operator paid the dispute\'s fee out of its bond.',
      OperatorUpheld: 'The jury upheld the operator\'s result: it was paid as if unchallenged.',
    };
    fill(
      status,
      h('p', { class: 'muted' }, `From ${source}.`),
      closed && explanation[job.closeReason]
        ? notice(job.closeReason === 'OperatorUpheld' ? 'info' : 'warning', explanation[job.closeReason]) : null,
      late ? notice('warning', `The operator did not deliver by ${time(job.submitBy)}: anyone can reopen the job for another operator (part of the late operator's bond is forfeited).`) : null,
      job.state === 'Disputed' ? notice('info', `The result is disputed (dispute ${job.disputeId}${dispute?.round !== undefined ? `, round ${dispute.round}, ${dispute.phase}` : ''}); a jury re-executes it.`) : null,
      facts([
        ['Model', h('a', { href: `#/models/${job.modelId}` }, `model ${job.modelId}, version ${job.modelVersion}`)],
        ['Buyer', job.buyer],
        ['Payment', amount(job.payment, token)],
        ['Regions', regions(job.regionMask)],
        ['Operator', job.operator ? h('a', { href: `#/audit/account/${job.operator}` }, job.operator) : 'not claimed yet'],
        ['Claim deadline', job.state === 'Requested' ? `${time(job.deadline)} (${now < job.deadline ? `${duration(job.deadline - now)} left` : 'passed'})` : time(job.deadline)],
        ...(job.state === 'Claimed' ? [['Result due', `${time(job.submitBy)} (${late ? 'late' : `${duration(job.submitBy - now)} left`})`] as [string, string]] : []),
        ...(job.state === 'Submitted' ? [['Challenge window', now < job.challengeEnds
          ? h('span', { id: 'challenge-countdown' }, `${duration(job.challengeEnds - now)} left (until ${time(job.challengeEnds)})`)
          : 'ended: the job can be finalized'] as [string, Node | string]] : []),
        ...(isCid(job.inputCid) ? [['Input', app.ipfsLink(job.inputCid)] as [string, Node | string]] : []),
      ]),
    );
    renderActions(app, buttons, log, out, job, now, late, refresh);
    const delivered = ['Submitted', 'Disputed', 'Finalized', 'Resolved'].includes(job.state) && (job.receipt || job.closeReason !== 'Expired');
    const key = `${job.receipt?.outputDigest ?? ''}|${job.state === 'Submitted' || !!job.receipt}`;
    if (delivered && shownResult !== key) {
      shownResult = key;
      showResult(app, result, job, submittedIn).catch((e) => {
        shownResult = ''; // try again at the next refresh
        fill(result, h('h2', { id: 'result-h' }, 'Result'), notice('error', explain(e)));
      });
    } else if (!delivered) {
      fill(result, h('h2', { id: 'result-h' }, 'Result'), h('p', { class: 'muted' }, closed ? 'No result was delivered.' : 'No result yet.'));
    }
  };
  const loop = async () => {
    // Stops when the view is left (its elements are no longer in the page).
    while (live.isConnected) {
      await refresh().catch((e) => fill(status, notice('error', explain(e))));
      await new Promise((r) => setTimeout(r, 2000));
    }
  };
  app.onWalletChange(() => refresh().catch(() => {}), live);
  loop();
}

function renderActions(
  app: App,
  el: HTMLElement,
  log: ReturnType<typeof progressLog>,
  out: HTMLElement,
  job: Job,
  now: number,
  late: boolean,
  refresh: () => Promise<void>,
) {
  const say = log.say;
  const jm = app.address('JobMarket');
  const buttons: Node[] = [];
  const id = BigInt(job.id);
  if (job.state === 'Requested' && now > job.deadline) {
    buttons.push(actionButton('Cancel and refund', async () => {
      await send(app.requireWallet(), app.reader, `cancel job ${id}`, { address: jm, abi: jobMarketAbi, functionName: 'cancel', args: [id] }, say);
      setTimeout(refresh, 0); // after the button is released, so the redraw shows the new state
    }, explain, { id: 'cancel' }, out));
  } else if (job.state === 'Requested') {
    buttons.push(h('p', { class: 'muted' }, `Unclaimed jobs can be cancelled (refunded) after the claim deadline, in ${duration(job.deadline - now)}.`));
  }
  if (late) {
    buttons.push(actionButton('Reopen for another operator', async () => {
      await send(app.requireWallet(), app.reader, `reopen job ${id}`, { address: jm, abi: jobMarketAbi, functionName: 'reopen', args: [id] }, say);
      setTimeout(refresh, 0);
    }, explain, { id: 'reopen' }, out));
  }
  if (job.state === 'Submitted' && now < job.challengeEnds) {
    buttons.push(actionButton('Challenge the result', async () => {
      const desk = app.address('DisputeDesk');
      const cost = await app.reader.readContract({ address: desk, abi: disputeDeskAbi, functionName: 'challengeCost', args: [id] });
      if (!confirm(`Challenging job ${id} costs ${amount(cost, ETH)} (your bond plus the jury's fee). A jury re-executes the job; if the result is wrong you get your bond back with a reward, if it is right you lose the bond. Challenge?`)) {
        throw new Plain('Challenge not sent: you declined. Nothing was paid.');
      }
      await send(app.requireWallet(), app.reader, `challenge job ${id}`, { address: desk, abi: disputeDeskAbi, functionName: 'challenge', args: [id], value: cost }, say);
      setTimeout(refresh, 0); // after the button is released, so the redraw shows the new state
    }, explain, { id: 'challenge' }, out));
  }
  if (job.state === 'Submitted' && now >= job.challengeEnds) {
    buttons.push(actionButton('Finalize (pay the operator and seller)', async () => {
      await send(app.requireWallet(), app.reader, `finalize job ${id}`, { address: jm, abi: jobMarketAbi, functionName: 'finalize', args: [id] }, say);
      setTimeout(refresh, 0); // after the button is released, so the redraw shows the new state
    }, explain, { id: 'finalize' }, out));
  }
  if (el.querySelector('button[aria-busy]')) return; // an action is in flight: leave its button as it is
  fill(el, buttons.length ? h('h2', {}, 'Actions') : null, ...buttons);
}

/** The job's receipt as the chain recorded it: the last `ResultSubmitted` event of the job (looked for in the
 * block the indexer names first, then over the deployment). */
async function receiptOnChain(app: App, id: bigint, hint?: bigint) {
  const jm = app.address('JobMarket');
  const find = (fromBlock: bigint, toBlock: bigint | 'latest') =>
    app.reader.getContractEvents({ address: jm, abi: jobMarketAbi, eventName: 'ResultSubmitted', args: { jobId: id }, fromBlock, toBlock });
  let logs = hint !== undefined ? await find(hint, hint) : [];
  if (!logs.length) logs = await find(BigInt(app.cfg.deploymentBlock), 'latest');
  const last = logs.at(-1);
  if (!last) throw new Plain(`The chain holds no result of job ${id} (no ResultSubmitted event).`);
  const { receipt, signer, signature } = last.args as { receipt: Omit<Receipt, 'signer' | 'signature' | 'energyMillijoules'> & { energyMillijoules: bigint }; signer: Address; signature: Hex };
  return { ...receipt, energyMillijoules: Number(receipt.energyMillijoules), signer, signature } as Receipt;
}

async function showResult(app: App, el: HTMLElement, job: Job, submittedIn?: bigint) {
  const title = h('h2', { id: 'result-h' }, 'Result');
  fill(el, title, h('p', {}, 'Fetching and checking the result…'));
  const id = BigInt(job.id);
  const jm = app.address('JobMarket');
  const checks: Node[] = [];
  const problems: string[] = [];
  // Everything checked comes from the chain: the receipt from the job's ResultSubmitted event, the job's terms
  // and progress; the indexer only says where to look, and a record of it that differs is reported.
  const [r, terms, progress] = await Promise.all([
    receiptOnChain(app, id, submittedIn),
    app.reader.readContract({ address: jm, abi: jobMarketAbi, functionName: 'getTerms', args: [id] }),
    app.reader.readContract({ address: jm, abi: jobMarketAbi, functionName: 'getProgress', args: [id] }),
  ]);
  if (job.receipt && (job.receipt.signature !== r.signature || job.receipt.outputDigest !== r.outputDigest || job.receipt.outputCid !== r.outputCid)) {
    problems.push('the indexer serves another receipt than the chain recorded (the chain\'s is checked here)');
  }
  if (job.closeReason === 'OperatorWrong') problems.push('a jury re-executed the job and ruled this result not acceptable');
  if (progress.outputDigest !== ZERO32 && progress.outputDigest !== r.outputDigest) problems.push('the receipt\'s output digest is not the one the job holds on chain');
  if (r.inputDigest !== terms.inputDigest || r.weightsDigest !== terms.weightsDigest || r.runtime !== terms.runtime) {
    problems.push('the receipt names another input, weights or runtime than the job\'s terms');
  }
  // The receipt's EIP-712 signature, recomputed here: the JobMarket's domain, the signer it checked at submission.
  const recovered = await receiptSigner(app.cfg.chainId, jm, id, r).catch((e) => {
    problems.push(`the receipt's signature cannot be recovered (${(e as Error).message})`);
    return null;
  });
  if (recovered && getAddress(recovered) !== getAddress(r.signer)) {
    problems.push(`the receipt was signed by ${recovered}, not by the operator's signer ${r.signer}`);
  } else if (recovered) {
    checks.push(h('li', {}, `Receipt signed by ${recovered}, the operator's signer when it submitted (EIP-712, JobMarket domain).`));
    const op = await app.api<OperatorDetail>(`/operators/${job.operator}`).then((d) => d.operator).catch(() => null);
    if (op && getAddress(op.signer) !== getAddress(recovered)) checks.push(h('li', {}, `The operator's signer is now ${op.signer} (it rotated its key since).`));
  }
  if (!isCid(r.outputCid)) throw new Plain(`The receipt's output CID "${r.outputCid}" is not a CID.`);
  const output = await fromGateway(app.cfg.gatewayUrl, r.outputCid, MAX_OUTPUT);
  const digest = await sha256(output);
  let embeddings: Embeddings | null = null;
  if (digest !== r.outputDigest.toLowerCase()) {
    problems.push(`the output fetched from IPFS has sha256 ${digest}, not the ${r.outputDigest} the receipt commits to`);
  } else {
    checks.push(h('li', {}, `Output sha256 ${digest} matches the receipt.`));
    try {
      embeddings = readEmbeddings(output);
    } catch (e) {
      problems.push(`the output is not a canonical safetensors file: ${(e as Error).message}`);
    }
  }
  let sentences: string[] | null = null;
  const runtime = RUNTIMES[terms.runtime];
  const limits = runtime ? app.cfg.inputLimits[runtime] : undefined;
  if (isCid(job.inputCid) && limits) {
    const input = await fromGateway(app.cfg.gatewayUrl, job.inputCid, limits.maxTotalBytes).catch(() => null);
    if (input && (await sha256(input)) === terms.inputDigest.toLowerCase()) sentences = parseTexts(input, limits);
  }
  if (embeddings) {
    const format = formatProblems(embeddings, sentences?.length ?? embeddings.rows);
    problems.push(...format);
    if (sentences === null) problems.push('the input could not be fetched and checked, so the number of rows is unverified');
    else if (!format.length) checks.push(h('li', {}, `Format: ${embeddings.rows} rows (one per input sentence) of ${embeddings.dim} finite values, each of norm 1.`));
  }
  fill(
    el,
    title,
    problems.length
      ? notice('warning', `Do not rely on this result: ${problems.join('; ')}. You can challenge it while the window is open.`)
      : notice('ok', 'The result checks out against the chain: the digest, the signature and the format.'),
    h('ul', { class: 'checks', id: 'result-checks' }, checks),
    embeddings ? facts([['Shape', h('span', { id: 'result-shape' }, `${embeddings.rows} × ${embeddings.dim} (f32)`)], ['Output', app.ipfsLink(r.outputCid)], ['Energy', `${r.energyMillijoules / 1000} J`]]) : null,
    embeddings ? heatMap(embeddings, sentences ?? []) : null,
  );
}

/** The cosine similarity of every pair of sentences as a table whose cells are shaded by value (each cell
 * also says its value, for screen readers and high contrast). At most 24 sentences. */
function heatMap(e: Embeddings, sentences: string[]) {
  const n = Math.min(e.rows, 24);
  const m = cosineMatrix(e);
  const label = (i: number) => sentences[i] ?? `row ${i}`;
  const cut = (s: string) => (s.length > 40 ? `${s.slice(0, 39)}…` : s);
  return h('figure', { id: 'heatmap' },
    h('figcaption', {}, `Cosine similarity of the sentences' embeddings${e.rows > n ? ` (the first ${n} of ${e.rows})` : ''}: darker is closer.`),
    h('table', { class: 'heat' },
      h('thead', {}, h('tr', {}, h('td', {}), Array.from({ length: n }, (_, j) => h('th', { scope: 'col', title: label(j) }, String(j + 1))))),
      h('tbody', {}, Array.from({ length: n }, (_, i) => h('tr', {},
        h('th', { scope: 'row', title: label(i) }, `${i + 1}. ${cut(label(i))}`),
        Array.from({ length: n }, (_, j) => {
          const c = m[i * e.rows + j];
          const light = Math.round(97 - Math.max(0, c) * 62);
          // White on the dark cells only below 48% lightness, dark text above: both ≥ 4.5:1 (WCAG AA).
          return h('td', { style: `background:hsl(215 70% ${light}%);color:${light < 48 ? '#fff' : '#111'}`, title: `${label(i)} / ${label(j)}: ${c.toFixed(3)}` }, c.toFixed(2));
        }))))));
}
