/** What every view reaches: the configuration, the chain reader, the wallet (once connected), tokens, the
 * indexer, and the header with the wallet's state. */
import { type Address, type PublicClient, zeroAddress } from 'viem';
import { indexer } from './api';
import { type Discovered, Wallet, discoverWallets, explain, publicClient } from './chain';
import { type Config, Plain } from './config';
import { ETH, type Token, amount, isCid, short } from './format';
import { devTokenAbi } from './generated/abi';
import { actionButton, fill, h, notice } from './ui';
import type { ModelDetail } from './views/types';

/** The local-storage key remembering which wallet this browser connected. */
const REMEMBERED = 'cairn.wallet';

export class App {
  readonly reader: PublicClient;
  wallet: Wallet | null = null;
  private tokens = new Map<string, Promise<Token>>();
  private listeners: { f: () => void; root: Element }[] = [];
  private balanceTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly cfg: Config,
    private readonly header: HTMLElement,
  ) {
    this.reader = publicClient(cfg);
  }

  /** A contract's address by name. */
  address(name: string): Address {
    const a = this.cfg.contracts[name];
    if (!a) throw new Plain(`This deployment has no ${name}.`);
    return a;
  }

  /** A link to `cid` on the IPFS gateway (the CID as text when it is not one). */
  ipfsLink(cid: string, text: string = cid): Node | string {
    return isCid(cid) ? h('a', { href: `${this.cfg.gatewayUrl}/ipfs/${cid}` }, text) : text;
  }

  /** GET from the indexer's API. */
  api<T>(path: string): Promise<T> {
    return indexer<T>(this.cfg.indexerUrl, path);
  }

  /** `/models/{id}`; while the indexer is still fetching the manifest from IPFS (`manifestStatus` "fetching"),
   * asks again for up to `patienceMs`. */
  async modelDetail(id: string, patienceMs = 10_000): Promise<ModelDetail> {
    const until = Date.now() + patienceMs;
    for (;;) {
      const d = await this.api<ModelDetail>(`/models/${encodeURIComponent(id)}`);
      if (d.manifestStatus !== 'fetching' || Date.now() > until) return d;
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  /** A payment token's symbol and decimals (ETH for the zero address), read once. */
  token(address: string): Promise<Token> {
    const key = address.toLowerCase();
    if (key === zeroAddress) return Promise.resolve(ETH);
    let t = this.tokens.get(key);
    if (!t) {
      const a = address as Address;
      t = Promise.all([
        this.reader.readContract({ address: a, abi: devTokenAbi, functionName: 'symbol' }),
        this.reader.readContract({ address: a, abi: devTokenAbi, functionName: 'decimals' }),
      ]).then(([symbol, decimals]) => ({ address: a, symbol: String(symbol), decimals: Number(decimals) }));
      t.catch(() => this.tokens.delete(key));
      this.tokens.set(key, t);
    }
    return t;
  }

  /** The chain's time: the latest block's timestamp, seconds (devnet time can run ahead of the clock). */
  async now(): Promise<number> {
    return Number((await this.reader.getBlock({ blockTag: 'latest' })).timestamp);
  }

  /** The connected wallet on the right chain. Throws [`Plain`] saying what to do otherwise. */
  requireWallet(): Wallet {
    if (!this.wallet) throw new Plain('Connect a wallet first (the "Connect wallet" button at the top).');
    this.wallet.requireChain();
    return this.wallet;
  }

  /** Calls `f` whenever the wallet connects, switches account or chain, for as long as `root` (the view's
   * element) is in the page. */
  onWalletChange(f: () => void, root: Element) {
    this.listeners.push({ f, root });
  }

  private changed() {
    this.renderHeader();
    this.listeners = this.listeners.filter((l) => l.root.isConnected);
    for (const l of this.listeners) l.f();
  }

  /** Reconnects, without a prompt, the wallet this browser connected before (`eth_accounts` answers only for
   * sites the wallet already trusts). */
  async restore() {
    const remembered = localStorage.getItem(REMEMBERED);
    if (!remembered) return;
    const source = (await discoverWallets()).find((w) => w.rdns === remembered);
    if (!source) return;
    const accounts = (await source.provider.request({ method: 'eth_accounts' }).catch(() => [])) as Address[];
    if (accounts?.length) await this.connect(source).catch(() => {});
  }

  async connect(source: Discovered) {
    this.wallet = await Wallet.connect(this.cfg, source);
    localStorage.setItem(REMEMBERED, source.rdns);
    const p = source.provider;
    p.on?.('accountsChanged', async (accounts) => {
      const list = accounts as Address[];
      const chainId = Number(await p.request({ method: 'eth_chainId' }).catch(() => this.wallet?.chainId ?? 0));
      this.wallet = list?.length ? new Wallet(this.cfg, source, list[0], chainId) : null;
      if (!this.wallet) localStorage.removeItem(REMEMBERED);
      this.changed();
    });
    p.on?.('chainChanged', (id) => {
      if (this.wallet) this.wallet.chainId = Number(id);
      this.changed();
    });
    this.changed();
  }

  /** The header's wallet area: a connect button, or the account, chain and balance, with a switch-chain
   * offer when the wallet is on another chain. */
  async renderHeader() {
    const w = this.wallet;
    if (!w) {
      fill(
        this.header,
        actionButton(
          'Connect wallet',
          async () => {
            const found = await discoverWallets();
            if (!found.length) {
              throw new Plain(
                'No wallet was found in this browser. Install a wallet extension such as MetaMask (or open this page in a wallet\'s browser), then reload. You can browse and audit without one.',
              );
            }
            await this.connect(found[0]);
          },
          explain,
          { id: 'connect' },
        ),
      );
      return;
    }
    const parts: (Node | string)[] = [
      h('span', { class: 'account', title: w.account, 'data-account': w.account }, `${w.source.name}: ${short(w.account)}`),
    ];
    if (!w.onRightChain) {
      parts.push(
        notice('warning', `Your wallet is on chain ${w.chainId}; this market runs on ${this.cfg.chainName} (${this.cfg.chainId}).`),
        actionButton(`Switch to ${this.cfg.chainName}`, async () => {
          await w.switchChain();
          this.changed();
        }, explain, { id: 'switch-chain' }),
      );
    } else {
      const balance = h('span', { class: 'balance', id: 'balance' });
      const show = async () => {
        const wei = await this.reader.getBalance({ address: w.account }).catch(() => null);
        fill(balance, wei === null ? 'balance unavailable' : amount(wei, ETH));
      };
      await show();
      // The balance follows the account's transactions (a new block every few seconds at most).
      clearInterval(this.balanceTimer);
      this.balanceTimer = setInterval(() => (this.wallet === w ? show() : clearInterval(this.balanceTimer)), 4000);
      parts.push(balance);
    }
    fill(this.header, ...parts);
  }
}
