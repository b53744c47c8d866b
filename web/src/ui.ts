/**
 * A few DOM helpers instead of a UI framework (the page-weight budget is 300 KiB gzipped). Every text goes
 * through `textContent`: model cards, CIDs and event fields come from sellers and the chain, never as HTML.
 */

type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | EventListener | null | undefined>;

/** An element: `h('a', { href: '#/' }, 'Models')`. `on…` attributes attach listeners; `false`/`null`
 * attributes are left out. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el: Node, children: Child[]) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the children of `el`. */
export function fill(el: Element, ...children: Child[]) {
  el.replaceChildren();
  append(el, children);
}

/** A definition list of label → value rows. */
export function facts(rows: [string, Child][]) {
  return h('dl', { class: 'facts' }, rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

/** A message in plain words: `error` (something failed, nothing was changed), `warning`, `info` or `ok`.
 * Errors and warnings are announced to screen readers (role=alert). */
export function notice(kind: 'error' | 'warning' | 'info' | 'ok', ...text: Child[]) {
  const role = kind === 'error' || kind === 'warning' ? 'alert' : 'status';
  return h('div', { class: `notice ${kind}`, role, 'data-kind': kind }, ...text);
}

/** A button that runs `action`, disabled and marked busy while it runs; what `action` throws is shown in
 * `out` (or next to the button) as an error in plain words. */
export function actionButton(
  label: string,
  action: () => Promise<void>,
  explain: (e: unknown) => string,
  attrs: Attrs = {},
  out?: HTMLElement,
) {
  const msg = out ?? h('div', { class: 'action-msg', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', ...attrs }, label);
  button.addEventListener('click', async () => {
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    fill(msg);
    try {
      await action();
    } catch (e) {
      fill(msg, notice('error', explain(e)));
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  });
  return out ? button : h('span', { class: 'action' }, button, msg);
}

/** A list that keeps every step of an action in flight ("sent", "sped up", "mined"), so no step's message is
 * lost when the next one arrives or the view around it refreshes. */
export function progressLog(id?: string) {
  const el = h('ol', { class: 'progress', 'aria-live': 'polite', ...(id ? { id } : {}) });
  return {
    el,
    say: (text: string) => void el.appendChild(h('li', {}, text)),
    clear: () => el.replaceChildren(),
  };
}
