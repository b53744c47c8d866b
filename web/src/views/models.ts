/** Browse: every listed model with its card's headline, price and regions; search and filters. */
import type { App } from '../app';
import { explain } from '../chain';
import { REGIONS, amount, regions } from '../format';
import { fill, h, notice } from '../ui';
import type { ModelRow, Page } from './types';

export async function modelsView(app: App, main: HTMLElement) {
  fill(main, h('h1', {}, 'Models'), h('p', { 'aria-live': 'polite' }, 'Loading the models from the indexer…'));
  let rows: ModelRow[];
  try {
    rows = (await app.api<Page<ModelRow>>('/models?deprecated=false&limit=500')).items;
  } catch (e) {
    fill(main, h('h1', {}, 'Models'), notice('error', explain(e)));
    return;
  }
  const details = await Promise.all(rows.map((m) => app.modelDetail(m.id).catch(() => null)));
  const tokens = await Promise.all(rows.map((m) => app.token(m.paymentToken).catch(() => null)));
  const entries = rows.map((m, i) => ({ m, d: details[i], token: tokens[i] }));
  const card = (i: number) => entries[i].d?.manifest?.card;
  const tasks = [...new Set(entries.map((_, i) => card(i)?.task).filter(Boolean))] as string[];
  const languages = [...new Set(entries.flatMap((_, i) => card(i)?.languages ?? []))].sort();

  const search = h('input', { id: 'search', type: 'search', placeholder: 'name, description or tag' });
  const task = h('select', { id: 'filter-task' }, h('option', { value: '' }, 'any'), tasks.map((t) => h('option', { value: t }, t)));
  const language = h('select', { id: 'filter-language' }, h('option', { value: '' }, 'any'), languages.map((l) => h('option', { value: l }, l)));
  const region = h('select', { id: 'filter-region' }, h('option', { value: '' }, 'any'), REGIONS.map(([c, n], i) => h('option', { value: String(i) }, `${c} (${n})`)));
  const maxPrice = h('input', { id: 'filter-price', type: 'number', min: '0', step: 'any', placeholder: 'any' });
  const list = h('ul', { class: 'models', id: 'model-list' });

  const render = () => {
    const q = search.value.trim().toLowerCase();
    const shown = entries.filter(({ m, d, token }) => {
      const c = d?.manifest?.card;
      const text = [c?.name, c?.description, ...(c?.tags ?? []), `model ${m.id}`].join(' ').toLowerCase();
      if (q && !text.includes(q)) return false;
      if (task.value && c?.task !== task.value) return false;
      if (language.value && !(c?.languages ?? []).includes(language.value)) return false;
      if (region.value && !((BigInt(m.regionMask) >> BigInt(region.value)) & 1n)) return false;
      if (maxPrice.value && token && Number(m.pricePerCall) / 10 ** token.decimals > Number(maxPrice.value)) return false;
      return true;
    });
    fill(
      list,
      shown.length
        ? shown.map(({ m, d, token }) => {
            const c = d?.manifest?.card;
            return h(
              'li',
              { class: 'model' },
              h('h2', {}, h('a', { href: `#/models/${m.id}` }, c?.name ?? `Model ${m.id}`)),
              h('p', { class: 'meta' }, [
                `model ${m.id}`,
                c?.task && ` · ${c.task}`,
                c?.languages?.length && ` · ${c.languages.join(', ')}`,
                ` · regions ${regions(m.regionMask)}`,
              ]),
              c?.description ? h('p', {}, c.description) : h('p', { class: 'muted' }, d ? `card: ${d.manifestStatus}` : 'card unavailable'),
              h(
                'p',
                { class: 'price' },
                token ? `${amount(m.pricePerCall, token)} per call` : `${m.pricePerCall} (unknown token) per call`,
                BigInt(m.licensePrice) > 0n && token ? ` · licence ${amount(m.licensePrice, token)}` : ' · no licence needed',
              ),
            );
          })
        : h('li', { class: 'muted' }, rows.length ? 'No model matches these filters.' : 'No model is listed yet.'),
    );
  };
  for (const el of [search, task, language, region, maxPrice]) el.addEventListener('input', render);
  fill(
    main,
    h('h1', {}, 'Models'),
    h(
      'form',
      { class: 'filters', role: 'search', onsubmit: (e: Event) => e.preventDefault() },
      h('label', {}, 'Search ', search),
      h('label', {}, 'Task ', task),
      h('label', {}, 'Language ', language),
      h('label', {}, 'Region ', region),
      h('label', {}, 'Max price per call ', maxPrice),
    ),
    list,
  );
  render();
}
