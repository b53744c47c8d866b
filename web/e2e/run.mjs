// End-to-end test of the web app in headless Chromium (Debian's `chromium`, driven by playwright-core; no browser
// download) against the real devnet: anvil, Kubo, cairn-indexer serving the app, a runner with its relay, and
// MiniLM published twice (in ETH with a licence, and in DUSD for the gasless path). `scripts/demo.py --scenario
// web` starts all that and runs this with:
//   CAIRN_APP_URL, CAIRN_RPC_URL, CAIRN_CHAIN_ID, CAIRN_BUYER_KEY, CAIRN_MODEL (ETH, licence), CAIRN_MODEL_DUSD
// and optionally CAIRN_CHROMIUM (default /usr/bin/chromium). A screenshot of each step goes to web/test-results/.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { TestWallet } from './wallet.mjs';

const env = (k, d) => process.env[k] ?? d ?? (() => { throw new Error(`${k} is not set (run through scripts/demo.py --scenario web)`); })();
const APP = env('CAIRN_APP_URL');
const RPC = env('CAIRN_RPC_URL');
const CHAIN = Number(env('CAIRN_CHAIN_ID', '31337'));
const KEY = env('CAIRN_BUYER_KEY');
const MODEL = env('CAIRN_MODEL');
const MODEL_DUSD = env('CAIRN_MODEL_DUSD');
const OUT = new URL('../test-results/', import.meta.url).pathname;
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });

const SENTENCES = ['A cairn is a pile of stones that marks a trail.', 'Hikers stack rocks to show others the way.',
  'The committee re-executes a disputed inference job.', 'Espresso is brewed by forcing hot water through coffee.'];

async function rpc(method, params = []) {
  const r = await fetch(RPC, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = await r.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}
const advance = async (secs) => { await rpc('evm_increaseTime', [secs]); await rpc('evm_mine'); };

const browser = await chromium.launch({ executablePath: env('CAIRN_CHROMIUM', '/usr/bin/chromium'), args: ['--no-sandbox'] });
let n = 0;
let page;
let failed = false;

/** Runs one named step; screenshots it (also on failure, with the page's text, then stops). */
async function step(name, f) {
  n += 1;
  const file = `${String(n).padStart(2, '0')}-${name}`;
  const started = Date.now();
  try {
    await f();
    await page.screenshot({ path: `${OUT}${file}.png`, fullPage: true });
    console.log(`ok   ${file} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed = true;
    console.log(`FAIL ${file}: ${e.message}`);
    if (page) {
      await page.screenshot({ path: `${OUT}${file}-FAILED.png`, fullPage: true }).catch(() => {});
      writeFileSync(`${OUT}${file}-FAILED.txt`, await page.locator('body').innerText().catch(() => ''));
    }
    throw e;
  }
}

/** A new page; `wallet` installs the test wallet (on `chain`) first. */
async function open(hash, wallet) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (e) => console.log(`  page error: ${e.message}`));
  if (wallet) await wallet.install(page);
  await page.goto(`${APP}${hash}`);
  return page;
}

const text = (sel) => page.locator(sel).innerText();
const expectText = async (sel, re, timeout = 15_000) => {
  await page.locator(sel).filter({ hasText: re }).first().waitFor({ timeout });
};
const connect = async () => {
  await page.locator('#connect').click();
  await page.locator('[data-account]').waitFor();
};
const jobIdFromUrl = async () => {
  await page.waitForURL(/#\/jobs\/\d+$/, { timeout: 120_000 });
  return page.url().split('/').pop();
};
const waitState = async (states, timeout = 240_000) => {
  await page.locator('#job-state').and(page.locator(states.map((s) => `[data-state="${s}"]`).join(','))).waitFor({ timeout });
  return page.locator('#job-state').getAttribute('data-state');
};
const review = async () => {
  await page.locator('#review-submit').click();
};

try {
  await step('no-wallet', async () => {
    await open('#/');
    await expectText('#model-list', /all-MiniLM-L6-v2/);
    await page.locator('#connect').click();
    await expectText('.notice.error', /No wallet was found/);
  });

  const wallet = new TestWallet(RPC, CHAIN, KEY);
  await step('wrong-chain', async () => {
    wallet.walletChain = 1;
    await open('#/', wallet);
    await connect();
    await expectText('.notice.warning', /Your wallet is on chain 1/);
    await page.locator('#switch-chain').click();
    await page.locator('#balance').waitFor();
    if (wallet.walletChain !== CHAIN) throw new Error('the wallet was not switched');
  });

  await step('browse-and-filter', async () => {
    await page.locator('#search').fill('minilm');
    await expectText('#model-list', /all-MiniLM-L6-v2/);
    await page.locator('#search').fill('no such model zzz');
    await expectText('#model-list', /No model matches/);
    await page.locator('#search').fill('');
    await page.locator('#filter-region').selectOption({ label: 'JP (Japan)' });
    await expectText('#model-list', /No model matches/);
    await page.locator('#filter-region').selectOption({ label: 'EU (EU/EEA)' });
    await expectText('#model-list', /all-MiniLM-L6-v2/);
  });

  await step('model-card', async () => {
    await page.goto(`${APP}#/models/${MODEL}`);
    await expectText('main', /Intended use/);
    await expectText('.facts', /sentence and short paragraph encoder/);
    await expectText('main', /did:pkh:eip155:/);
    await expectText('main', /Version history/);
    await page.locator('#buy-licence').waitFor();
    // Every control has an accessible name (a label, or its text for buttons), and headings do not skip levels.
    const unnamed = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea, button')]
      .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || (el.tagName === 'BUTTON' && el.textContent.trim())))
      .map((el) => el.outerHTML.slice(0, 80)));
    if (unnamed.length) throw new Error(`controls without an accessible name: ${unnamed.join(' | ')}`);
    const levels = await page.evaluate(() => [...document.querySelectorAll('h1, h2, h3')].map((h) => Number(h.tagName[1])));
    if (levels[0] !== 1 || levels.some((l, i) => i && l > levels[i - 1] + 1)) throw new Error(`heading levels ${levels}`);
    // Keyboard: Tab reaches the licence button.
    for (let i = 0; i < 60 && !(await page.evaluate(() => document.activeElement?.id === 'buy-licence')); i++) await page.keyboard.press('Tab');
    if (!(await page.evaluate(() => document.activeElement?.id === 'buy-licence'))) throw new Error('Tab never reaches the licence button');
  });

  await step('rejected-signature', async () => {
    wallet.rejectNext = true;
    await page.locator('#buy-licence').click();
    await expectText('#licence .notice.error', /You rejected the request in your wallet/);
  });

  await step('buy-licence', async () => {
    await page.locator('#buy-licence').click();
    await expectText('#licence .notice.ok', /You hold a licence/, 60_000);
  });

  await step('bad-input-refused-before-paying', async () => {
    const before = await rpc('eth_getBalance', [wallet.account.address, 'latest']);
    await page.locator('#sentences').fill('["fine", 42]');
    await review();
    await expectText('#submit .notice.error', /item 1 is a number, not a string/);
    await page.locator('#sentences').fill(SENTENCES.join('\n'));
    await page.locator('#pay').fill('100000');
    await review();
    await expectText('#submit .notice.error', /less than the 100000 ETH to pay/);
    await page.locator('#pay').fill('0.000000000000000001');
    await review();
    await expectText('#submit .notice.error', /Paying 0\.000000000000000001 ETH is below what this job needs: [0-9.]+ ETH/);
    if ((await rpc('eth_getBalance', [wallet.account.address, 'latest'])) !== before) throw new Error('the balance moved');
  });

  let jobA;
  await step('submit-job', async () => {
    await page.locator('#pay').fill('0.002');
    await review();
    await expectText('#review', /You pay/);
    await expectText('#review .notice.warning', /Inputs on IPFS are public/);
    await page.locator('#confirm-submit').click();
    jobA = await jobIdFromUrl();
  });

  await step('result-verified-with-heat-map', async () => {
    await waitState(['Submitted', 'Finalized', 'Disputed', 'Resolved']);
    await expectText('#job-result .notice.ok', /The result checks out/, 60_000);
    if ((await text('#result-shape')) !== `${SENTENCES.length} × 384 (f32)`) throw new Error(`shape ${await text('#result-shape')}`);
    const cells = await page.locator('#heatmap tbody td').count();
    if (cells !== SENTENCES.length ** 2) throw new Error(`${cells} heat-map cells`);
    await expectText('#heatmap tbody tr:first-child td:first-of-type', /1\.00/);
  });

  await step('tampered-output-is-flagged', async () => {
    const cid = (await text('#job-result a[href*="/ipfs/"]')).trim();
    await page.route(`**/ipfs/${cid}`, async (route) => {
      const real = await route.fetch();
      const body = Buffer.from(await real.body());
      body[body.length - 1] ^= 0x01;
      await route.fulfill({ response: real, body });
    });
    await page.reload();
    await expectText('#job-result .notice.warning', /Do not rely on this result: the output fetched from IPFS has sha256/, 60_000);
    await page.unroute(`**/ipfs/${cid}`);
  });

  await step('forged-receipt-signature-is-flagged', async () => {
    await page.route(`**/jobs/${jobA}`, async (route) => {
      const real = await route.fetch();
      const body = await real.json();
      const sig = body.job.receipt.signature;
      body.job.receipt.signature = `${sig.slice(0, 10)}${sig[10] === 'a' ? 'b' : 'a'}${sig.slice(11)}`;
      await route.fulfill({ response: real, json: body });
    });
    await page.reload();
    await expectText('#job-result .notice.warning', /Do not rely on this result: the indexer serves another receipt than the chain recorded/, 60_000);
    await page.unroute(`**/jobs/${jobA}`);
  });

  await step('ipfs-unreachable', async () => {
    await page.route('**/ipfs/**', (route) => route.abort('connectionrefused'));
    await page.reload();
    await expectText('#job-result .notice.error', /IPFS gateway at .* cannot be reached/, 60_000);
    await page.unroute('**/ipfs/**');
  });

  await step('indexer-unreachable-falls-back-to-the-chain', async () => {
    await page.route(`**/jobs/${jobA}`, (route) => route.abort('connectionrefused'));
    await page.reload();
    await expectText('#job-status', /From the chain \(the indexer cannot be reached/);
    await waitState(['Submitted'], 10_000); // the chain's JobState read right (it starts at None)
    await page.unroute(`**/jobs/${jobA}`);
    await page.route('**/models?*', (route) => route.abort('connectionrefused'));
    await page.goto(`${APP}#/`);
    await expectText('main .notice.error', /The indexer cannot be reached/);
    await page.unroute('**/models?*');
  });

  await step('job-finalizes', async () => {
    await page.goto(`${APP}#/jobs/${jobA}`);
    await waitState(['Submitted', 'Finalized', 'Disputed', 'Resolved']);
    const challengeEnds = await page.locator('#challenge-countdown').count();
    if (challengeEnds) await advance(4 * 3600);
    const finalize = page.locator('#finalize');
    await finalize.waitFor({ timeout: 20_000 }).then(() => finalize.click()).catch(() => {});
    const state = await waitState(['Finalized', 'Resolved'], 300_000);
    console.log(`  job ${jobA}: ${state}`);
  });

  let jobB;
  await step('gasless-job', async () => {
    const ethBefore = await rpc('eth_getBalance', [wallet.account.address, 'latest']);
    await page.goto(`${APP}#/models/${MODEL_DUSD}`);
    await page.locator('#sentences').fill(SENTENCES.slice(0, 2).join('\n'));
    await page.locator('#pay').fill('2');
    await page.locator('#gasless').check();
    await review();
    await expectText('#review', /by a permit you sign/);
    await page.locator('#confirm-submit').click();
    jobB = await jobIdFromUrl();
    if ((await rpc('eth_getBalance', [wallet.account.address, 'latest'])) !== ethBefore) throw new Error('the gasless job spent ETH');
    await waitState(['Submitted']);
  });

  await step('challenge-shows-the-dispute', async () => {
    page.once('dialog', (d) => d.accept());
    await page.locator('#challenge').click();
    await waitState(['Disputed', 'Resolved'], 60_000);
    await expectText('#job-status .notice', /disputed|jury/i);
  });

  let jobC;
  await step('unclaimed-job-times-out-and-refunds', async () => {
    await page.goto(`${APP}#/models/${MODEL}`);
    await page.locator('#sentences').fill('Nobody serves this region today.');
    await page.locator('#pay').fill('0.002');
    await page.locator('#region-EU').uncheck();
    await page.locator('#deadline').selectOption({ label: '15 minutes' });
    await review();
    await page.locator('#confirm-submit').click();
    jobC = await jobIdFromUrl();
    await waitState(['Requested']);
    // The same input again, while job C is open: refused before paying, pointing at job C.
    await page.goto(`${APP}#/models/${MODEL}`);
    await page.locator('#sentences').fill('Nobody serves this region today.');
    await page.locator('#pay').fill('0.002');
    await review();
    await expectText('#submit .notice.error', new RegExp(`You already have job ${jobC} \\(Requested\\) for this input and model: nothing was paid`));
    await page.goto(`${APP}#/jobs/${jobC}`);
    await waitState(['Requested']);
    await advance(16 * 60);
    wallet.replaceNext = 'speedup';
    await page.locator('#cancel').click({ timeout: 20_000 });
    await expectText('#job-actions .progress', /Your wallet sped up "cancel job/, 30_000);
    await waitState(['Cancelled'], 60_000);
    await expectText('#job-status .notice.warning', /Nobody claimed this job/);
  });

  await step('account-withdraws-the-refund', async () => {
    await page.goto(`${APP}#/account`);
    await expectText('#my-jobs', new RegExp(`Job ${jobC}`));
    await expectText('#my-licences', new RegExp(`model ${MODEL}`));
    const withdraw = page.locator('button.withdraw[data-contract="JobMarket"]');
    await withdraw.waitFor();
    wallet.replaceNext = 'cancel';
    await withdraw.click();
    await expectText('#balances .notice.error', /You cancelled "withdraw .*" in your wallet; nothing was paid/, 30_000);
    const before = BigInt(await rpc('eth_getBalance', [wallet.account.address, 'latest']));
    await withdraw.click();
    await page.locator('button.withdraw[data-contract="JobMarket"]').waitFor({ state: 'detached', timeout: 60_000 });
    const gained = BigInt(await rpc('eth_getBalance', [wallet.account.address, 'latest'])) - before;
    // The cancelled job's 0.002 ETH, less the withdrawal's gas.
    if (gained <= 1_900_000_000_000_000n || gained > 2_000_000_000_000_000n) throw new Error(`the withdrawal paid ${gained} wei`);
  });

  await step('audit-trail', async () => {
    await page.goto(`${APP}#/audit/job/${jobA}`);
    await expectText('#trail', /JobRequested/);
    await expectText('#trail', /JobSubmitted|ResultSubmitted/);
    // A transaction of the trail, decoded from the chain's receipt.
    await page.locator('#trail tbody tr:first-child a[href^="#/audit/tx/"]').click();
    await expectText('#tx-events', /JobMarket\.JobRequested/);
    await expectText('main', /succeeded/);
    await page.goBack();
    await page.locator('#trail').waitFor();
    await page.locator(`#trail a[href="#/audit/account/${wallet.account.address.toLowerCase()}"], main a[href*="${wallet.account.address.toLowerCase()}"]`).first().click();
    await expectText('#trail', /LicenseBought/);
  });
} catch {
  failed = true;
} finally {
  await browser.close();
}
console.log(failed ? `web e2e FAILED (screenshots in ${OUT})` : `web e2e passed: ${n} steps, screenshots in ${OUT}`);
process.exit(failed ? 1 : 0);
