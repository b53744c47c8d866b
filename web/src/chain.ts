/**
 * The chain: reads through the deployment's RPC URL, writes through the buyer's injected wallet (EIP-1193,
 * discovered by EIP-6963 with `window.ethereum` as fallback). Every transaction is simulated first (a revert is
 * explained before the wallet opens), then followed to its real outcome, also when the wallet speeds it up,
 * replaces or cancels it. Errors are turned into plain words by [`explain`].
 */
import {
  type Abi,
  type Address,
  BaseError,
  ChainMismatchError,
  ContractFunctionRevertedError,
  type Hex,
  HttpRequestError,
  InsufficientFundsError,
  type PublicClient,
  type TransactionReceipt,
  UserRejectedRequestError,
  WaitForTransactionReceiptTimeoutError,
  type WalletClient,
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  http,
  numberToHex,
} from 'viem';
import { type Config, Plain } from './config';
import { InputError } from './input';
import { OutputError } from './output';

/** An EIP-1193 provider. */
export interface Eip1193 {
  request(args: { method: string; params?: unknown }): Promise<unknown>;
  on?(event: string, listener: (...args: unknown[]) => void): void;
  removeListener?(event: string, listener: (...args: unknown[]) => void): void;
}

/** A wallet found on the page (EIP-6963 `info`, or the legacy `window.ethereum`). */
export interface Discovered {
  name: string;
  rdns: string;
  icon: string;
  provider: Eip1193;
}

/** The deployment's chain for viem. */
export function chainOf(cfg: Config) {
  return defineChain({
    id: cfg.chainId,
    name: cfg.chainName,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [cfg.rpcUrl] } },
  });
}

export function publicClient(cfg: Config): PublicClient {
  return createPublicClient({ chain: chainOf(cfg), transport: http(cfg.rpcUrl, { retryCount: 1 }) }) as PublicClient;
}

/** The wallets that announce themselves within `waitMs` (EIP-6963), else `window.ethereum` if present. */
export async function discoverWallets(waitMs = 250): Promise<Discovered[]> {
  const found: Discovered[] = [];
  const onAnnounce = (event: Event) => {
    const { info, provider } = (event as CustomEvent).detail ?? {};
    if (info?.uuid && provider && !found.some((f) => f.rdns === info.rdns && f.name === info.name)) {
      found.push({ name: String(info.name), rdns: String(info.rdns), icon: String(info.icon ?? ''), provider });
    }
  };
  window.addEventListener('eip6963:announceProvider', onAnnounce);
  window.dispatchEvent(new Event('eip6963:requestProvider'));
  await new Promise((r) => setTimeout(r, waitMs));
  window.removeEventListener('eip6963:announceProvider', onAnnounce);
  const legacy = (window as unknown as { ethereum?: Eip1193 }).ethereum;
  if (!found.length && legacy) found.push({ name: 'Browser wallet', rdns: 'window.ethereum', icon: '', provider: legacy });
  return found;
}

/** A connected wallet: the account and the chain it is on. */
export class Wallet {
  readonly client: WalletClient;

  constructor(
    readonly cfg: Config,
    readonly source: Discovered,
    readonly account: Address,
    public chainId: number,
  ) {
    this.client = createWalletClient({ account, chain: chainOf(cfg), transport: custom(source.provider) });
  }

  /** Asks the wallet for an account (`eth_requestAccounts`). */
  static async connect(cfg: Config, source: Discovered): Promise<Wallet> {
    const accounts = (await source.provider.request({ method: 'eth_requestAccounts' })) as Address[];
    if (!accounts?.length) throw new Plain(`${source.name} shared no account; unlock it and connect again.`);
    const chainId = Number(await source.provider.request({ method: 'eth_chainId' }));
    return new Wallet(cfg, source, accounts[0], chainId);
  }

  get onRightChain(): boolean {
    return this.chainId === this.cfg.chainId;
  }

  /** Asks the wallet to switch to the deployment's chain, adding it first when the wallet does not know it
   * (EIP-3326 `wallet_switchEthereumChain`, error 4902 → EIP-3085 `wallet_addEthereumChain`). */
  async switchChain(): Promise<void> {
    const chainId = numberToHex(this.cfg.chainId);
    try {
      await this.source.provider.request({ method: 'wallet_switchEthereumChain', params: [{ chainId }] });
    } catch (e) {
      if ((e as { code?: number }).code !== 4902) throw e;
      await this.source.provider.request({
        method: 'wallet_addEthereumChain',
        params: [
          {
            chainId,
            chainName: this.cfg.chainName,
            rpcUrls: [this.cfg.rpcUrl],
            nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
          },
        ],
      });
    }
    this.chainId = Number(await this.source.provider.request({ method: 'eth_chainId' }));
  }

  /** Throws [`Plain`] unless the wallet is on the deployment's chain. */
  requireChain() {
    if (!this.onRightChain) {
      throw new Plain(
        `Your wallet is on chain ${this.chainId}, not ${this.cfg.chainName} (${this.cfg.chainId}): switch it with the button at the top, then try again. Nothing was sent.`,
      );
    }
  }
}

/** One contract call to send. */
export interface Call {
  address: Address;
  abi: Abi;
  functionName: string;
  args: readonly unknown[];
  value?: bigint;
}

/** Simulates `call` as the wallet's account, asks the wallet to send it, and follows it until mined. `progress`
 * hears each step. Returns the receipt of the transaction that was mined (the replacement's, when the wallet
 * replaced it). Throws [`Plain`] for a revert, a cancellation, a drop or a timeout. */
export async function send(
  wallet: Wallet,
  reader: PublicClient,
  what: string,
  call: Call,
  progress: (text: string) => void,
): Promise<TransactionReceipt> {
  wallet.requireChain();
  progress(`Checking "${what}" against the chain…`);
  const { request } = await reader.simulateContract({ ...call, account: wallet.account } as never);
  progress(`Confirm "${what}" in your wallet.`);
  const hash: Hex = await wallet.client.writeContract({ ...(request as object), account: wallet.account, chain: chainOf(wallet.cfg) } as never);
  progress(`"${what}" sent (${hash}); waiting for it to be mined…`);
  let replaced = '';
  let receipt: TransactionReceipt;
  try {
    receipt = await reader.waitForTransactionReceipt({
      hash,
      timeout: 180_000,
      onReplaced: (r) => {
        replaced = r.reason;
        progress(`Your wallet ${r.reason === 'repriced' ? 'sped up' : r.reason} "${what}": now following ${r.transaction.hash}.`);
      },
    });
  } catch (e) {
    if (e instanceof WaitForTransactionReceiptTimeoutError) {
      throw new Plain(
        `"${what}" (${hash}) was not mined within 3 minutes: your wallet or the node may have dropped it. Check your wallet's activity before trying again, so nothing is paid twice.`,
      );
    }
    throw e;
  }
  if (replaced === 'cancelled') throw new Plain(`You cancelled "${what}" in your wallet; nothing was paid.`);
  if (receipt.status !== 'success') {
    throw new Plain(`"${what}" was mined but reverted (${receipt.transactionHash}); nothing changed except the gas spent.`);
  }
  progress(`"${what}" mined in block ${receipt.blockNumber}.`);
  return receipt;
}

/** What the contracts' custom errors mean, for the ones a buyer meets. */
const REFUSALS: Record<string, (a: readonly unknown[]) => string> = {
  ModelUnavailable: (a) => `model ${a[0]} cannot be used by ${a[1]}: it is deprecated or needs a licence you do not hold.`,
  VersionNotLatest: (a) => `model ${a[0]} moved to version ${a[1]} while you were reviewing; review the job again.`,
  PriceAboveMax: (a) => `model ${a[0]} now costs ${a[1]} per call, above the ${a[2]} you accepted; review the job again.`,
  InsufficientPayment: (a) => `the payment ${a[0]} is below the ${a[1]} this job needs; pay more.`,
  TokenNotAccepted: (a) => `the market takes no new jobs paid in ${a[0]} (not listed, or being wound down); choose a model paid in another token.`,
  RegionNotAllowed: () => 'one of the chosen regions is not among the model\'s; choose among its regions.',
  BadDeadline: () => 'the claim deadline is too far or already past; choose another.',
  JobTooLarge: (a) => `the job's bond ${a[1]} would exceed the market's largest bond ${a[2]}; split the input into smaller jobs.`,
  TokenMismatch: (a) => `model ${a[0]} is paid in ${a[1]}, not ${a[2]}.`,
  WrongState: (a) => `job ${a[0]} is no longer in a state that allows this (it moved on); reload the page.`,
  OutsideWindow: (a) => `job ${a[0]}'s window for this has closed or not opened yet.`,
  ChallengeWindowClosed: (a) => `job ${a[0]}'s challenge window has closed.`,
  NotChallengeable: (a) => `job ${a[0]} cannot be challenged in its present state.`,
  AlreadyChallenger: (a) => `you already challenged job ${a[0]}.`,
  AuditPending: (a) => `job ${a[0]} waits for its random audit draw; try again in a few blocks.`,
  NothingToWithdraw: () => 'there is nothing to withdraw.',
  LicenseNotRequired: (a) => `model ${a[0]} needs no licence.`,
  PeriodBelowMin: (a) => `model ${a[0]}'s licence period changed to ${a[1]} s, below the ${a[2]} s you accepted; review again.`,
  ERC20InsufficientAllowance: (a) => `the JobMarket may spend only ${a[1]} of your tokens and needs ${a[2]}; approve more.`,
  ERC20InsufficientBalance: (a) => `your token balance ${a[1]} is below the ${a[2]} needed.`,
  WrongPayment: (a) => `the amount sent (${a[1]}) is not the ${a[0]} expected.`,
};

/** A failure in plain words: what went wrong and what to do. Never empty. */
export function explain(e: unknown): string {
  if (e instanceof Plain || e instanceof InputError || e instanceof OutputError) return e.message;
  // Straight from the wallet (not through viem): EIP-1193 errors carry a code.
  const code = (e as { code?: number } | null)?.code;
  if (code === 4001) return 'You rejected the request in your wallet: nothing was signed, sent or paid.';
  if (code === 4100) return 'Your wallet has not authorized this site for that account: connect again.';
  if (code === 4902) return 'Your wallet does not know this chain and could not add it: add it by hand (the chain id and RPC URL are in /app/config.json).';
  if (e instanceof BaseError) {
    if (e.walk((x) => x instanceof UserRejectedRequestError || (x as { code?: number })?.code === 4001)) {
      return 'You rejected the request in your wallet: nothing was signed, sent or paid.';
    }
    if (e.walk((x) => x instanceof InsufficientFundsError)) {
      return 'Your account does not hold enough ETH for this amount plus gas: fund it and try again. Nothing was sent.';
    }
    const revert = e.walk((x) => x instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null;
    if (revert) {
      const name = revert.data?.errorName;
      const args = (revert.data?.args ?? []) as readonly unknown[];
      const why = name && REFUSALS[name] ? REFUSALS[name](args) : name ? `${name}(${args.join(', ')})` : revert.reason ?? revert.shortMessage;
      return `The contract refused: ${why} Nothing was sent or paid.`;
    }
    if (e.walk((x) => x instanceof ChainMismatchError)) {
      return 'Your wallet is on another chain: switch it with the button at the top and try again. Nothing was sent.';
    }
    const down = e.walk((x) => x instanceof HttpRequestError) as HttpRequestError | null;
    if (down) return `The chain's RPC at ${down.url} cannot be reached; try again when it is back. Nothing was sent.`;
    return e.shortMessage;
  }
  if (e instanceof TypeError && /fetch/i.test(e.message)) return `A service cannot be reached (${e.message}).`;
  if (e instanceof Error) return e.message;
  const message = (e as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : `An unexpected failure: ${JSON.stringify(e)}`;
}
