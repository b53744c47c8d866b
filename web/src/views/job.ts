/**
 * One job, live: its state, operator and countdowns (from the indexer, or the chain when the indexer is
 * down), the buttons the contracts allow now (cancel, challenge, finalize), and, once a result is submitted,
 * the result checked in the browser: the output's sha256 against the receipt, the receipt's EIP-712 signature
 * against the operator's signer, the acceptance rule's format checks, then its shape and a cosine-similarity
 * heat map of the sentences.
 */
import { type Address, getAddress } from 'viem';
import type { App } from '../app';
import { IndexerDown, fromGateway } from '../api';
import { explain, send } from '../chain';
import { Plain } from '../config';
import { ETH, amount, duration, regions, time } from '../format';
import { disputeDeskAbi, jobMarketAbi } from '../generated/abi';
import { parseTexts } from '../input';
import { type Embeddings, cosineMatrix, formatProblems, readEmbeddings, sha256 } from '../output';
import { RUNTIMES, receiptSigner } from '../typed';
import { actionButton, facts, fill, h, notice, progressLog } from '../ui';
import type { Job, JobDetail, OperatorDetail } from './types';

const STATES = ['Requested', 'Claimed', 'Submitted', 'Disputed', 'Finalized', 'Cancelled', 'Resolved'];
const CLOSE = ['Open', 'Finalized', 'Expired', 'OperatorUpheld', 'OperatorWrong', 'ArbitratorRefused'];
/** Largest output fetched for the heat map (bytes). */
const MAX_OUTPUT = 64 << 20;

/** The job from the chain (`getTerms`, `getProgress`), shaped as the indexer's, for when the indexer is down. */
async function fromChain(app: App, id: bigint): Promise<Job> {
  const jm = app.address('JobMarket');
  const [t, p] = await Promise.all([
    app.reader.readContract({ address: jm, abi: jobMarketAbi, functionName: 'getTerms', args: [id] }),
    app.reader.readContract({ address: jm, abi: jobMarketAbi, functionName: 'getProgress', args: [id] }),
  ]);
  if (t.buyer === '0x0000000000000000000000000000000000000000') throw new Plain(`There is no job ${id} on chain.`);
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
  const status = h('section', { id: 'job-status', 'aria-live': 'polite' });
  // The buttons are redrawn on every refresh; what an action said stays below them.
  const buttons = h('div', {});
  const log = progressLog();
  const out = h('div', { 'aria-live': 'polite' });
  const actions = h('section', { id: 'job-actions' }, buttons, log.el, out);
  const result = h('section', { id: 'job-result', 'aria-labelledby': 'result-h' });
  fill(main, h('h1', {}, `Job ${id}`), status, actions, result,
    h('p', {}, h('a', { href: `#/audit/job/${id}` }, 'The whole trail of this job')));
  let shownResult = '';
  let active = true;
  const here = location.hash;

  const refresh = async () => {
    let job: Job;
    let source = 'the indexer';
    let dispute: JobDetail['dispute'] = null;
    try {
      const d = await app.api<JobDetail>(`/jobs/${id}`);
      job = d.job;
      dispute = d.dispute;
    } catch (e) {
      if (!(e instanceof IndexerDown)) {
        fill(status, notice('error', explain(e)));
        return;
      }
      job = await fromChain(app, id);
      source = 'the chain (the indexer cannot be reached; the result and history need it)';
    }
    const [now, token] = await Promise.all([app.now(), app.token(job.token)]);
    const closed = ['Finalized', 'Cancelled', 'Resolved'].includes(job.state);
    const failed = job.state === 'Cancelled' || job.closeReason === 'OperatorWrong' || job.closeReason === 'Expired';
    fill(
      status,
      h('p', { class: 'muted' }, `From ${source}.`),
      h('p', { class: `state state-${job.state}`, id: 'job-state', 'data-state': job.state }, `State: ${job.state}${closed ? ` (${job.closeReason})` : ''}`),
      failed ? notice('warning', job.state === 'Cancelled'
        ? 'Nobody claimed this job before its deadline: it was cancelled and the payment is refundable (withdraw it under "My account").'
        : job.closeReason === 'OperatorWrong'
          ? 'The jury ruled the operator\'s result wrong: you are refunded (withdraw under "My account") and the operator\'s bond was slashed.'
          : 'The job expired.') : null,
      job.state === 'Disputed' ? notice('info', `The result is disputed (dispute ${job.disputeId}${dispute?.round !== undefined ? `, round ${dispute.round}, ${dispute.phase}` : ''}); a jury re-executes it.`) : null,
      facts([
        ['Model', h('a', { href: `#/models/${job.modelId}` }, `model ${job.modelId}, version ${job.modelVersion}`)],
        ['Buyer', job.buyer],
        ['Payment', amount(job.payment, token)],
        ['Regions', regions(job.regionMask)],
        ['Operator', job.operator ? h('a', { href: `#/audit/account/${job.operator}` }, job.operator) : 'not claimed yet'],
        ['Claim deadline', job.state === 'Requested' ? `${time(job.deadline)} (${now < job.deadline ? `${duration(job.deadline - now)} left` : 'passed'})` : time(job.deadline)],
        ...(job.state === 'Claimed' ? [['Result due', `${time(job.submitBy)} (${duration(job.submitBy - now)} left)`] as [string, string]] : []),
        ...(job.state === 'Submitted' ? [['Challenge window', now < job.challengeEnds
          ? h('span', { id: 'challenge-countdown' }, `${duration(job.challengeEnds - now)} left (until ${time(job.challengeEnds)})`)
          : 'ended: the job can be finalized'] as [string, Node | string]] : []),
        ...(job.inputCid ? [['Input', h('a', { href: `${app.cfg.gatewayUrl}/ipfs/${job.inputCid}` }, job.inputCid)] as [string, Node]] : []),
      ]),
    );
    renderActions(app, buttons, log, out, job, now, refresh);
    if (job.receipt && shownResult !== job.receipt.outputDigest) {
      shownResult = job.receipt.outputDigest;
      showResult(app, result, job).catch((e) => fill(result, h('h2', { id: 'result-h' }, 'Result'), notice('error', explain(e))));
    } else if (!job.receipt) {
      fill(result, h('h2', { id: 'result-h' }, 'Result'), h('p', { class: 'muted' }, closed ? 'No result was delivered.' : 'No result yet.'));
    }
  };
  const loop = async () => {
    while (active && location.hash === here) {
      await refresh().catch((e) => fill(status, notice('error', explain(e))));
      await new Promise((r) => setTimeout(r, 2000));
    }
    active = false;
  };
  app.onWalletChange(() => refresh().catch(() => {}));
  loop();
}

function renderActions(
  app: App,
  el: HTMLElement,
  log: ReturnType<typeof progressLog>,
  out: HTMLElement,
  job: Job,
  now: number,
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

async function showResult(app: App, el: HTMLElement, job: Job) {
  const r = job.receipt!;
  const title = h('h2', { id: 'result-h' }, 'Result');
  fill(el, title, h('p', { 'aria-live': 'polite' }, 'Fetching and checking the result…'));
  const checks: Node[] = [];
  const problems: string[] = [];
  // The receipt's signature: the JobMarket's EIP-712 domain; the signer the market checked at submission.
  const recovered = await receiptSigner(app.cfg.chainId, app.address('JobMarket'), BigInt(job.id), r).catch((e) => {
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
  if (r.inputDigest !== job.inputDigest) problems.push('the receipt names another input than the job');
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
  let sentences: string[] = [];
  const runtime = RUNTIMES[r.runtime];
  if (job.inputCid && runtime && app.cfg.inputLimits[runtime]) {
    const input = await fromGateway(app.cfg.gatewayUrl, job.inputCid, app.cfg.inputLimits[runtime].maxTotalBytes).catch(() => null);
    if (input && (await sha256(input)) === job.inputDigest.toLowerCase()) sentences = parseTexts(input, app.cfg.inputLimits[runtime]);
  }
  if (embeddings) {
    const format = formatProblems(embeddings, sentences.length || embeddings.rows);
    problems.push(...format);
    if (!format.length) checks.push(h('li', {}, `Format: ${embeddings.rows} rows of ${embeddings.dim} finite values, each of norm 1.`));
  }
  fill(
    el,
    title,
    problems.length
      ? notice('warning', `Do not rely on this result: ${problems.join('; ')}. You can challenge it while the window is open.`)
      : notice('ok', 'The result checks out: the digest, the signature and the format.'),
    h('ul', { class: 'checks', id: 'result-checks' }, checks),
    embeddings ? facts([['Shape', h('span', { id: 'result-shape' }, `${embeddings.rows} × ${embeddings.dim} (f32)`)], ['Output', h('a', { href: `${app.cfg.gatewayUrl}/ipfs/${r.outputCid}` }, r.outputCid)], ['Energy', `${r.energyMillijoules / 1000} J`]]) : null,
    embeddings ? heatMap(embeddings, sentences) : null,
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
          return h('td', { style: `background:hsl(215 70% ${light}%);color:${light < 60 ? '#fff' : '#111'}`, title: `${label(i)} / ${label(j)}: ${c.toFixed(3)}` }, c.toFixed(2));
        }))))));
}
