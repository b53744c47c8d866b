/** Cairn's buyers' web app: loads `/app/config.json`, checks the deployment speaks this app's interface
 * version (the config's word and the JobMarket's own `interfaceVersion()`), then routes by URL fragment. */
import './style.css';
import { App } from './app';
import { explain } from './chain';
import { Plain, SPEAKS_INTERFACE_VERSION, loadConfig } from './config';
import { jobMarketAbi } from './generated/abi';
import { fill, h, notice } from './ui';
import { accountView } from './views/account';
import { auditView } from './views/audit';
import { jobView } from './views/job';
import { modelView } from './views/model';
import { modelsView } from './views/models';

const main = document.getElementById('main')!;
const walletArea = document.getElementById('wallet')!;

async function start() {
  let app: App;
  try {
    const cfg = await loadConfig();
    app = new App(cfg, walletArea);
    const onChain = await app.reader
      .readContract({ address: app.address('JobMarket'), abi: jobMarketAbi, functionName: 'interfaceVersion' })
      .catch((e) => {
        throw new Plain(`The chain's RPC at ${cfg.rpcUrl} cannot be reached or has no JobMarket at ${cfg.contracts.JobMarket} (${explain(e)}).`);
      });
    if (onChain !== SPEAKS_INTERFACE_VERSION) {
      throw new Plain(`The JobMarket on chain speaks interface version ${onChain}; this app speaks ${SPEAKS_INTERFACE_VERSION}. Use the app of that deployment.`);
    }
  } catch (e) {
    fill(main, h('h1', {}, 'Cairn'), notice('error', explain(e)));
    return;
  }
  await app.renderHeader();
  await app.restore();
  const route = async () => {
    // Only fragments of the form #/… are routes (the skip link's #main is not).
    if (location.hash && !location.hash.startsWith('#/')) return;
    // Each view draws into its own element: a view still loading when the route changes draws into an element
    // no longer in the page, and its loops and wallet listeners stop with it.
    const view = h('div', {});
    fill(main, view);
    const [, first = '', second = '', third = ''] = location.hash.replace(/^#/, '').split('/');
    document.querySelectorAll('nav a').forEach((a) => a.removeAttribute('aria-current'));
    document.querySelector(`nav a[data-route="${first || 'models'}"]`)?.setAttribute('aria-current', 'page');
    try {
      if (first === '' || first === 'models') await (second ? modelView(app, view, second) : modelsView(app, view));
      else if (first === 'jobs') await jobView(app, view, second);
      else if (first === 'audit') await auditView(app, view, second, third);
      else if (first === 'account') await accountView(app, view);
      else fill(view, h('h1', {}, 'Not found'), notice('error', `Nothing is at "${location.hash}". Start from the models.`));
    } catch (e) {
      fill(view, notice('error', explain(e)));
    }
    main.focus();
  };
  window.addEventListener('hashchange', route);
  await route();
}

window.addEventListener('unhandledrejection', (e) => {
  document.getElementById('main')?.prepend(notice('error', explain(e.reason)));
});
start();
