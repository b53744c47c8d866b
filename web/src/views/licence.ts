/** A model's licence: whether the connected account may use it, and a purchase with every amount shown first. */
import { type Address, zeroAddress } from 'viem';
import type { App } from '../app';
import { explain, send } from '../chain';
import { Plain } from '../config';
import { type Token, amount, duration, time } from '../format';
import { devTokenAbi, modelRegistryAbi } from '../generated/abi';
import { actionButton, facts, fill, h, notice, progressLog } from '../ui';
import type { ModelRow } from './types';

export async function licencePanel(app: App, el: HTMLElement, m: ModelRow, shownToken: Token | null) {
  const title = h('h2', { id: 'licence-h' }, 'Licence');
  if (BigInt(m.licensePrice) === 0n) {
    fill(el, title, h('p', {}, 'This model needs no licence: any account may submit jobs.'));
    return;
  }
  const w = app.wallet;
  if (!w || !w.onRightChain || !shownToken) {
    fill(el, title, h('p', {}, `A licence costs ${shownToken ? amount(m.licensePrice, shownToken) : m.licensePrice} for ${duration(m.licensePeriod)}. Connect a wallet to buy one.`));
    return;
  }
  const registry = app.address('ModelRegistry');
  const modelId = BigInt(m.id);
  try {
    const [has, model] = await Promise.all([
      app.reader.readContract({ address: registry, abi: modelRegistryAbi, functionName: 'hasLicense', args: [modelId, w.account] }),
      app.reader.readContract({ address: registry, abi: modelRegistryAbi, functionName: 'getModel', args: [modelId] }),
    ]);
    const v = await app.reader.readContract({ address: registry, abi: modelRegistryAbi, functionName: 'getVersion', args: [modelId, model.latestVersion] });
    if (has) {
      fill(el, title, notice('ok', `You hold a licence of this model (${w.account}).`));
      return;
    }
    const log = progressLog();
    const progress = log.el;
    const out = h('div', { 'aria-live': 'polite' });
    const price = v.licensePrice;
    const isEth = v.paymentToken === zeroAddress;
    // The amounts shown are in the chain's token and time, whatever the indexer said.
    const [token, now] = await Promise.all([app.token(v.paymentToken), app.now()]);
    fill(
      el,
      title,
      facts([
        ['Price', amount(price, token)],
        ['Period', `${duration(Number(v.licensePeriod))} (until about ${time(now + Number(v.licensePeriod))})`],
        ['Paid to', `the seller ${m.seller}, through the ModelRegistry`],
        ['Transactions', isEth ? '1 (the purchase, paying ETH)' : `up to 2 (approve ${token.symbol}, then the purchase)`],
      ]),
      actionButton(`Buy a licence for ${amount(price, token)}`, async () => {
        const wallet = app.requireWallet();
        const say = log.say;
        const have = isEth
          ? await app.reader.getBalance({ address: wallet.account })
          : await app.reader.readContract({ address: v.paymentToken, abi: devTokenAbi, functionName: 'balanceOf', args: [wallet.account] });
        if (have < price) throw new Plain(`Your account holds ${amount(have, token)}, less than the licence's ${amount(price, token)}; fund it first. Nothing was sent.`);
        if (!isEth) {
          const allowance = await app.reader.readContract({ address: v.paymentToken, abi: devTokenAbi, functionName: 'allowance', args: [wallet.account, registry] });
          if (allowance < price) {
            await send(wallet, app.reader, `approve ${amount(price, token)} for the ModelRegistry`, {
              address: v.paymentToken as Address, abi: devTokenAbi, functionName: 'approve', args: [registry, price],
            }, say);
          }
        }
        // maxPrice and minPeriod bind what was shown: a seller changing terms meanwhile makes it revert.
        await send(wallet, app.reader, 'buy the licence', {
          address: registry, abi: modelRegistryAbi, functionName: 'buyLicense',
          args: [modelId, v.paymentToken, price, v.licensePeriod], value: isEth ? price : 0n,
        }, say);
        await licencePanel(app, el, m, shownToken);
      }, explain, { id: 'buy-licence' }, out),
      progress,
      out,
    );
  } catch (e) {
    fill(el, title, notice('error', explain(e)));
  }
}
