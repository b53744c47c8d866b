/** One model: its card, provenance, terms, version history and operators; buy a licence; submit a job. */
import type { App } from '../app';
import { explain } from '../chain';
import { didPkh, amount, regions, short, time, duration } from '../format';
import { RUNTIMES } from '../typed';
import { facts, fill, h, notice } from '../ui';
import { licencePanel } from './licence';
import { submitPanel } from './submit';
import type { Card, ModelDetail, Operator, OperatorDetail, Page } from './types';

/** A card field as text: strings as they are, "unknown"/absent as "not stated", objects as JSON. */
function said(v: unknown): string {
  if (v === undefined || v === null || v === '' || v === 'unknown') return 'not stated by the seller';
  return typeof v === 'string' ? v : JSON.stringify(v, null, 1);
}

function trainingData(c: Card) {
  const t = c.trainingData;
  if (!t || typeof t === 'string') return said(t);
  const sets = t.datasets ?? [];
  if (!sets.length) return said(undefined);
  const shown = sets.slice(0, 8);
  return h(
    'div',
    {},
    h('ul', {}, shown.map((d) => h('li', {}, d.name, d.license && d.license !== 'unknown' ? ` (${d.license})` : ''))),
    sets.length > shown.length ? h('p', { class: 'muted' }, `and ${sets.length - shown.length} more datasets`) : null,
  );
}

export async function modelView(app: App, main: HTMLElement, id: string) {
  fill(main, h('p', { 'aria-live': 'polite' }, `Loading model ${id}…`));
  let d: ModelDetail;
  try {
    d = await app.modelDetail(id);
  } catch (e) {
    fill(main, h('h1', {}, `Model ${id}`), notice('error', explain(e)));
    return;
  }
  const m = d.model;
  const token = await app.token(m.paymentToken).catch(() => null);
  const c = d.manifest?.card ?? {};
  const latest = d.versions.find((v) => v.version === m.latestVersion);
  const operators = await Promise.all(
    d.servedBy.map((s) => app.api<OperatorDetail>(`/operators/${s.operator}`).then((o) => ({ o: o.operator, jobs: s.jobs })).catch(() => null)),
  );
  const inRegion = await app
    .api<Page<Operator>>('/operators?limit=500')
    .then((p) => p.items.filter((o) => (BigInt(m.regionMask) >> BigInt(o.region)) & 1n))
    .catch(() => [] as Operator[]);
  const fmt = (raw: string) => (token ? amount(raw, token) : `${raw} (token ${m.paymentToken})`);
  const runtime = RUNTIMES[m.runtime] ?? `unknown runtime ${m.runtime}`;

  const licence = h('section', { id: 'licence', 'aria-labelledby': 'licence-h' });
  const submit = h('section', { id: 'submit', 'aria-labelledby': 'submit-h' });
  fill(
    main,
    h('h1', {}, c.name ?? `Model ${m.id}`),
    m.deprecated ? notice('warning', 'This model is deprecated: it takes no new jobs or licences.') : null,
    d.manifest ? null : notice('warning', `The model card is not available (${d.manifestStatus}).`),
    c.description ? h('p', { class: 'lead' }, c.description) : null,
    h('section', { 'aria-labelledby': 'card-h' },
      h('h2', { id: 'card-h' }, 'Model card'),
      facts([
        ['Task', said(c.task)],
        ['Languages', c.languages?.join(', ') || said(undefined)],
        ['Intended use', said(c.intendedUse)],
        ['Out-of-scope use', said(c.outOfScopeUse)],
        ['Limitations', said(c.limitations)],
        ['Training data', trainingData(c)],
        ['Evaluation', said(c.evaluation)],
        ['Environmental impact', said(c.environmentalImpact)],
        ['Licence of the weights', said(c.license)],
        ['Restricted jurisdictions', said(c.restrictedJurisdictions)],
        ['Output', c.outputDim ? `${c.outputDim}-dimensional embeddings` : said(undefined)],
      ]),
    ),
    h('section', { 'aria-labelledby': 'terms-h' },
      h('h2', { id: 'terms-h' }, 'Terms'),
      facts([
        ['Price per call', fmt(m.pricePerCall)],
        ['Licence', BigInt(m.licensePrice) > 0n ? `${fmt(m.licensePrice)} for ${duration(m.licensePeriod)}` : 'not needed'],
        ['Regions it may run in', regions(m.regionMask)],
        ['Runtime', runtime],
        ['Latest version', String(m.latestVersion)],
      ]),
    ),
    licence,
    submit,
    h('section', { 'aria-labelledby': 'prov-h' },
      h('h2', { id: 'prov-h' }, 'Provenance'),
      facts([
        ['Seller', h('span', {}, h('a', { href: `#/audit/account/${m.seller}` }, m.seller), ' · ',
          h('a', { href: `${app.cfg.indexerUrl}/did/${didPkh(app.cfg.chainId, m.seller)}` }, didPkh(app.cfg.chainId, m.seller)))],
        ['Manifest', latest ? app.ipfsLink(latest.manifestCid) : said(undefined)],
        ['Manifest sha256', latest?.manifestDigest ?? said(undefined)],
        ['Weights sha256', latest?.weightsDigest ?? said(undefined)],
        ['Seller\'s signature', latest ? (latest.signatureValid ? `valid (EIP-712, ${latest.signatureCheck})` : `INVALID: ${latest.signatureCheck}`) : said(undefined)],
      ]),
      h('h3', {}, 'Version history'),
      h('table', {},
        h('thead', {}, h('tr', {}, ['Version', 'Registered', 'Price per call', 'Regions', 'Manifest'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, d.versions.map((v) => h('tr', {},
          h('td', {}, String(v.version)), h('td', {}, time(v.registeredAt)), h('td', {}, fmt(v.pricePerCall)),
          h('td', {}, regions(v.regionMask)), h('td', {}, app.ipfsLink(v.manifestCid, short(v.manifestCid))))))),
      h('p', {}, h('a', { href: `#/audit/model/${m.id}` }, 'The whole trail of this model')),
    ),
    h('section', { 'aria-labelledby': 'ops-h' },
      h('h2', { id: 'ops-h' }, 'Operators'),
      operators.some(Boolean)
        ? h('table', {},
            h('thead', {}, h('tr', {}, ['Operator', 'Region', 'Jobs of this model', 'Completed', 'Disputes lost', 'Reputation'].map((t) => h('th', { scope: 'col' }, t)))),
            h('tbody', {}, operators.filter((x) => x !== null).map(({ o, jobs }) => h('tr', {},
              h('td', {}, h('a', { href: `#/audit/account/${o.address}` }, short(o.address))),
              h('td', {}, regions(1n << BigInt(o.region))), h('td', {}, String(jobs)), h('td', {}, String(o.completed)),
              h('td', {}, String(o.disputesLost)), h('td', {}, `${o.reputation.score} / 1000`)))))
        : h('p', { class: 'muted' }, 'No operator has served this model yet.'),
      h('p', {}, `${inRegion.length} registered operator(s) run in its regions (${regions(m.regionMask)}).`),
    ),
  );
  const renderActions = () => {
    licencePanel(app, licence, m, token);
    submitPanel(app, submit, m, token, inRegion);
  };
  app.onWalletChange(renderActions, licence);
  renderActions();
}
