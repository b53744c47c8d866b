/** My account: licences, jobs, and the pull balances the contracts hold for the account, with withdrawals. */
import { type Address, isAddress, zeroAddress } from 'viem';
import type { App } from '../app';
import { explain, send } from '../chain';
import { amount, time } from '../format';
import { jobMarketAbi } from '../generated/abi';
import { actionButton, fill, h, notice, progressLog } from '../ui';
import type { Job, Page, TrailItem } from './types';

/** The contracts that pay by pull (PullPayments: `balanceOf(account, token)`, `withdraw(token)`). */
const PULL = ['JobMarket', 'ModelRegistry', 'DisputeDesk', 'ReexecutionCommittee'];

export async function accountView(app: App, view: HTMLElement) {
  // Redrawn whole on a wallet change: a fresh element per drawing, whose listener ends with it.
  const main = h('div', {});
  fill(view, main);
  app.onWalletChange(() => accountView(app, view), main);
  const w = app.wallet;
  if (!w) {
    fill(main, h('h1', {}, 'My account'), notice('info', 'Connect a wallet (the button at the top) to see your licences, jobs and balances.'));
    return;
  }
  fill(main, h('h1', {}, 'My account'), h('p', {}, w.account), h('p', { 'aria-live': 'polite' }, 'Loading…'));
  const balances = h('section', { id: 'balances' });
  const jobs = h('section', { id: 'my-jobs' });
  const licences = h('section', { id: 'my-licences' });
  fill(main, h('h1', {}, 'My account'), h('p', {}, h('a', { href: `#/audit/account/${w.account}` }, w.account)), balances, jobs, licences);

  // The tokens this account dealt in (its jobs and licences, from the indexer), ETH, and the devnet's token.
  const dealt = await app.api<Page<TrailItem>>(`/accounts/${w.account}/trail?limit=500`)
    .then((p) => p.items.flatMap((t) => [t.fields.token, (t.fields.terms as { token?: unknown } | undefined)?.token]))
    .catch(() => []);
  const tokens = [...new Set([zeroAddress, app.cfg.contracts.DevToken, ...dealt]
    .filter((t): t is string => typeof t === 'string' && isAddress(t)).map((t) => t.toLowerCase()))] as Address[];
  const renderBalances = async () => {
    const rows: Node[] = [];
    const log = progressLog();
    const progress = log.el;
    const out = h('div', { 'aria-live': 'polite' });
    for (const name of PULL) {
      const address = app.cfg.contracts[name];
      if (!address) continue;
      for (const t of tokens) {
        const raw = await app.reader.readContract({ address, abi: jobMarketAbi, functionName: 'balanceOf', args: [w.account, t] }).catch(() => null);
        if (raw === null || raw === 0n) continue;
        const token = await app.token(t);
        rows.push(h('tr', {}, h('td', {}, name), h('td', {}, amount(raw, token)), h('td', {},
          actionButton(`Withdraw ${amount(raw, token)}`, async () => {
            await send(app.requireWallet(), app.reader, `withdraw ${amount(raw, token)} from the ${name}`, { address, abi: jobMarketAbi, functionName: 'withdraw', args: [t] }, log.say);
            await renderBalances();
          }, explain, { class: 'withdraw', 'data-contract': name }, out))));
      }
    }
    fill(balances, h('h2', {}, 'Balances to withdraw'),
      rows.length ? h('table', { id: 'pull-balances' }, h('thead', {}, h('tr', {}, ['Held by', 'Amount', ''].map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, rows))
        : h('p', { class: 'muted', id: 'no-balances' }, 'Nothing to withdraw: refunds, royalties and rewards appear here.'),
      progress, out);
  };
  await renderBalances().catch((e) => fill(balances, notice('error', explain(e))));

  try {
    const page = await app.api<Page<Job>>(`/jobs?buyer=${w.account}&limit=500`);
    fill(jobs, h('h2', {}, `Jobs (${page.items.length})`),
      page.items.length ? h('ul', {}, page.items.slice().reverse().map((j) => h('li', {}, h('a', { href: `#/jobs/${j.id}` }, `Job ${j.id}`), ` · model ${j.modelId} · ${j.state} · requested ${time(j.requestedAt)}`)))
        : h('p', { class: 'muted' }, 'No job yet.'));
    const trail = await app.api<Page<TrailItem>>(`/accounts/${w.account}/trail?limit=500`);
    const bought = trail.items.filter((t) => t.event === 'LicenseBought');
    fill(licences, h('h2', {}, `Licences (${bought.length})`),
      bought.length ? h('ul', {}, bought.map((t) => h('li', {}, h('a', { href: `#/models/${t.fields.modelId}` }, `model ${t.fields.modelId}`), ` until ${time(String(t.fields.expiry))}`)))
        : h('p', { class: 'muted' }, 'No licence bought.'));
  } catch (e) {
    fill(jobs, notice('error', explain(e)));
  }
}
