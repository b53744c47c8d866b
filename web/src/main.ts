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
    app.clearListeners();
    const [, first = '', second = '', third = ''] = location.hash.replace(/^#/, '').split('/');
    document.querySelectorAll('nav a').forEach((a) => a.removeAttribute('aria-current'));
    document.querySelector(`nav a[data-route="${first || 'models'}"]`)?.setAttribute('aria-current', 'page');
    try {
      if (first === '' || first === 'models') await (second ? modelView(app, main, second) : modelsView(app, main));
      else if (first === 'jobs') await jobView(app, main, second);
      else if (first === 'audit') await auditView(app, main, second, third);
      else if (first === 'account') await accountView(app, main);
      else fill(main, h('h1', {}, 'Not found'), notice('error', `Nothing is at "${location.hash}". Start from the models.`));
    } catch (e) {
      fill(main, notice('error', explain(e)));
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
