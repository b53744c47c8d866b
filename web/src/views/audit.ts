/** Audit: the whole trail of a job, a model or an account, from the indexer, with links between events,
 * transactions (each decoded from the chain's own receipt), CIDs, accounts and DID documents. */
import { type Abi, type Hex, decodeEventLog, isAddress } from 'viem';
import type { App } from '../app';
import { explain } from '../chain';
import { didPkh, isCid, short, time } from '../format';
import { devTokenAbi, disputeDeskAbi, jobMarketAbi, modelRegistryAbi, operatorRegistryAbi, reexecutionCommitteeAbi } from '../generated/abi';
import { facts, fill, h, notice } from '../ui';
import type { JobDetail, ModelDetail, Page, TrailItem } from './types';

/** A field value with links: accounts to their trail, CIDs to the gateway, nested objects as lists. */
function value(app: App, v: unknown): Node | string {
  if (typeof v === 'string' && isAddress(v)) return h('a', { href: `#/audit/account/${v}` }, v);
  if (isCid(v)) return app.ipfsLink(v);
  if (typeof v === 'bigint') return v.toString();
  if (v && typeof v === 'object') {
    return h('ul', { class: 'fields' }, Object.entries(v as Record<string, unknown>).map(([k, x]) => h('li', {}, `${k}: `, value(app, x))));
  }
  return String(v);
}

/** The ABIs of the deployment's contracts by lower-case address, to decode a transaction's logs. */
function abis(app: App): Map<string, { name: string; abi: Abi }> {
  const byName: Record<string, Abi> = {
    JobMarket: jobMarketAbi, ModelRegistry: modelRegistryAbi, DisputeDesk: disputeDeskAbi,
    ReexecutionCommittee: reexecutionCommitteeAbi, OperatorRegistry: operatorRegistryAbi, DevToken: devTokenAbi,
  };
  return new Map(Object.entries(app.cfg.contracts).filter(([n]) => byName[n]).map(([n, a]) => [a.toLowerCase(), { name: n, abi: byName[n] }]));
}

/** A transaction: its status and block from the chain, and each of its Cairn events decoded by the ABIs. */
async function txView(app: App, main: HTMLElement, hash: string) {
  if (!/^0x[0-9a-fA-F]{64}$/.test(hash)) throw new Error(`"${hash}" is not a transaction hash (0x and 64 hex digits).`);
  const receipt = await app.reader.getTransactionReceipt({ hash: hash as Hex });
  const known = abis(app);
  const events = receipt.logs.map((log) => {
    const c = known.get(log.address.toLowerCase());
    if (!c) return { contract: log.address, event: 'a log of another contract', args: {} as Record<string, unknown> };
    try {
      const d = decodeEventLog({ abi: c.abi, data: log.data, topics: log.topics });
      return { contract: c.name, event: d.eventName ?? '?', args: (d.args ?? {}) as Record<string, unknown> };
    } catch {
      return { contract: c.name, event: 'an event this app cannot decode', args: {} };
    }
  });
  const block = await app.reader.getBlock({ blockNumber: receipt.blockNumber });
  fill(main, h('h1', {}, 'Transaction'), h('p', { class: 'mono' }, hash),
    facts([
      ['Status', receipt.status === 'success' ? 'succeeded' : 'reverted'],
      ['Block', `${receipt.blockNumber} at ${time(Number(block.timestamp))}`],
      ['From', value(app, receipt.from)],
      ['To', receipt.to ? value(app, receipt.to) : 'a contract creation'],
      ['Gas used', receipt.gasUsed.toString()],
    ]),
    h('h2', {}, `Events (${events.length})`),
    h('ol', { id: 'tx-events' }, events.map((e) => h('li', {}, `${e.contract}.${e.event}`, value(app, e.args)))));
}

function trailTable(rows: { event: string; blockNumber: number; txHash: string; timestamp: number; final: boolean; confirmations: number; detail: Node | string }[]) {
  return h('table', { class: 'trail', id: 'trail' },
    h('thead', {}, h('tr', {}, ['Time', 'Block', 'Event', 'Transaction', 'Details'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.map((r) => h('tr', {},
      h('td', {}, time(r.timestamp)),
      h('td', {}, `${r.blockNumber}${r.final ? ' (final)' : ` (${r.confirmations} conf.)`}`),
      h('td', {}, r.event),
      h('td', { title: r.txHash }, r.txHash ? h('a', { href: `#/audit/tx/${r.txHash}` }, short(r.txHash)) : ''),
      h('td', {}, r.detail)))));
}

export async function auditView(app: App, main: HTMLElement, kind: string, id: string) {
  fill(main, h('h1', {}, 'Audit'), h('p', { 'aria-live': 'polite' }, 'Loading the trail…'));
  try {
    if (kind === 'job') {
      const d = await app.api<JobDetail>(`/jobs/${encodeURIComponent(id)}`);
      const j = d.job;
      fill(main, h('h1', {}, `Audit of job ${j.id}`),
        h('p', {}, h('a', { href: `#/jobs/${j.id}` }, 'Live view and result'), ' · ', h('a', { href: `#/audit/model/${j.modelId}` }, `model ${j.modelId}`),
          ' · buyer ', h('a', { href: `#/audit/account/${j.buyer}` }, j.buyer)),
        h('p', {}, 'Input: ', value(app, j.inputCid), j.receipt ? [' · output: ', value(app, j.receipt.outputCid)] : null),
        trailTable(d.transitions.map((t) => ({ ...t, detail: h('span', {}, `→ ${t.state}`, t.closeReason !== 'Open' ? ` (${t.closeReason})` : '', t.operator ? [' by ', value(app, t.operator)] : null) }))),
        d.dispute ? h('section', {}, h('h2', {}, `Dispute ${d.dispute.id}`), value(app, d.dispute)) : null);
    } else if (kind === 'model') {
      const d = await app.api<ModelDetail>(`/models/${encodeURIComponent(id)}`);
      fill(main, h('h1', {}, `Audit of model ${d.model.id}`),
        h('p', {}, h('a', { href: `#/models/${d.model.id}` }, 'Model page'), ' · seller ', value(app, d.model.seller), ' · ',
          h('a', { href: `${app.cfg.indexerUrl}/did/${didPkh(app.cfg.chainId, d.model.seller)}` }, 'DID document')),
        h('h2', {}, 'Versions'),
        trailTable(d.versions.map((v) => ({ event: `version ${v.version}`, txHash: '', timestamp: v.registeredAt, blockNumber: v.blockNumber, final: v.final, confirmations: v.confirmations,
          detail: h('span', {}, 'manifest ', value(app, v.manifestCid), ` · weights ${short(v.weightsDigest)} · signature ${v.signatureValid ? 'valid' : 'INVALID'}`) }))),
        h('h2', {}, `Licences (${d.licenses.length})`),
        h('ul', {}, d.licenses.map((l) => h('li', {}, value(app, l.buyer), ` until ${time(l.expiry)}`))));
    } else if (kind === 'account') {
      if (!isAddress(id)) throw new Error(`"${id}" is not an address (0x and 40 hex digits).`);
      const page = await app.api<Page<TrailItem>>(`/accounts/${id}/trail?limit=500`);
      fill(main, h('h1', {}, `Audit of ${id}`),
        h('p', {}, h('a', { href: `${app.cfg.indexerUrl}/did/${didPkh(app.cfg.chainId, id)}` }, didPkh(app.cfg.chainId, id))),
        page.items.length ? trailTable(page.items.map((t) => ({ ...t, event: `${t.contract}.${t.event} (${t.roles.join(', ')})`, detail: value(app, t.fields) })))
          : h('p', { class: 'muted' }, 'No event names this account.'));
    } else if (kind === 'tx') {
      await txView(app, main, id);
    } else {
      throw new Error(`Nothing to audit at "${kind}": open a job, a model, an account or a transaction.`);
    }
  } catch (e) {
    fill(main, h('h1', {}, 'Audit'), notice('error', explain(e)));
  }
}
