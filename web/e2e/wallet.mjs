// An injected EIP-1193 wallet for the end-to-end test: a real secp256k1 key (viem's local account) that signs
// transactions and typed data and sends them to the real anvil; every other request goes to anvil as is. It is
// announced by EIP-6963 like a wallet extension. The test can put it on another chain (the app must offer to
// switch), make it reject the next request (as a user pressing "Reject" would, EIP-1193 code 4001), and make it
// speed up or cancel the next transaction after sending it (the app must follow it to its real outcome).
import { createWalletClient, defineChain, http, numberToHex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

export class TestWallet {
  constructor(rpcUrl, chainId, privateKey) {
    this.rpcUrl = rpcUrl;
    this.chainId = chainId;
    this.walletChain = chainId;
    this.account = privateKeyToAccount(privateKey);
    const chain = defineChain({ id: chainId, name: 'devnet', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [rpcUrl] } } });
    this.client = createWalletClient({ account: this.account, chain, transport: http(rpcUrl) });
    this.rejectNext = false;
    this.replaceNext = null;
    this.log = [];
  }

  /** Installs the wallet in `page` (before any of its scripts run). */
  async install(page) {
    this.page = page;
    await page.exposeBinding('__cairnWallet', (_source, method, params) => this.handle(method, params));
    await page.addInitScript(() => {
      const listeners = {};
      const provider = {
        async request({ method, params }) {
          const r = await window.__cairnWallet(method, params ?? []);
          if (r.error) throw Object.assign(new Error(r.error.message), { code: r.error.code, data: r.error.data });
          return r.result;
        },
        on(event, f) {
          (listeners[event] ??= []).push(f);
        },
        removeListener(event, f) {
          listeners[event] = (listeners[event] ?? []).filter((g) => g !== f);
        },
      };
      window.__cairnEmit = (event, arg) => (listeners[event] ?? []).forEach((f) => f(arg));
      const info = { uuid: '6f1c1d36-0b5e-4c55-9d1e-2f2b7b1c0001', name: 'Cairn test wallet', icon: 'data:image/svg+xml,<svg xmlns="http://www.w3.org/2000/svg"/>', rdns: 'org.cairn.testwallet' };
      const announce = () => window.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail: Object.freeze({ info, provider }) }));
      window.addEventListener('eip6963:requestProvider', announce);
      announce();
    });
  }

  /** Sends `fields` with mining paused, then, once the app is waiting for it, replaces it as a wallet's
   * "speed up" (`speedup`: the same transaction at twice the fee) or "cancel" (`cancel`: a 0-value transfer to
   * itself at the same nonce) does, and mines. Returns the first transaction's hash (what the app was told). */
  async sendAndReplace(fields, how) {
    // The devnet mines on every transaction and every 2 s (--mixed-mining): hold both while replacing.
    await this.anvil('evm_setAutomine', [false]);
    await this.anvil('evm_setIntervalMining', [0]);
    const nonce = Number(await this.anvil('eth_getTransactionCount', [this.account.address, 'pending']));
    const fee = 2_000_000_000n;
    const gas = fields.gas ?? BigInt(await this.anvil('eth_estimateGas', [{ from: this.account.address, to: fields.to, data: fields.data, value: fields.value ? `0x${fields.value.toString(16)}` : undefined }]));
    const first = await this.client.sendTransaction({ ...fields, gas, nonce, maxFeePerGas: fee, maxPriorityFeePerGas: fee / 2n });
    setTimeout(async () => {
      try {
        const bump = { nonce, maxFeePerGas: fee * 2n, maxPriorityFeePerGas: fee };
        if (how === 'cancel') await this.client.sendTransaction({ to: this.account.address, value: 0n, gas: 21_000n, ...bump });
        else await this.client.sendTransaction({ ...fields, gas, ...bump });
        await this.anvil('evm_mine', []);
      } catch (e) {
        this.failure = `the test wallet could not replace its transaction: ${e.shortMessage ?? e.message}`;
        console.log(`  ${this.failure}`);
      } finally {
        await this.anvil('evm_setAutomine', [true]).catch(() => {});
        await this.anvil('evm_setIntervalMining', [2]).catch(() => {});
      }
    }, 2000);
    return first;
  }

  async anvil(method, params) {
    const r = await fetch(this.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
    const body = await r.json();
    if (body.error) throw new Error(`${method}: ${body.error.message}`);
    return body.result;
  }

  async handle(method, params) {
    this.log.push(method);
    const signing = ['eth_sendTransaction', 'eth_signTypedData_v4', 'personal_sign', 'eth_requestAccounts'];
    if (this.rejectNext && signing.includes(method)) {
      this.rejectNext = false;
      return { error: { code: 4001, message: 'User rejected the request.' } };
    }
    try {
      switch (method) {
        case 'eth_requestAccounts':
        case 'eth_accounts':
          return { result: [this.account.address] };
        case 'eth_chainId':
          return { result: numberToHex(this.walletChain) };
        case 'wallet_switchEthereumChain': {
          const id = Number(params[0].chainId);
          if (id !== this.chainId) return { error: { code: 4902, message: `Unrecognized chain ID ${params[0].chainId}.` } };
          this.walletChain = id;
          await this.page.evaluate((hex) => window.__cairnEmit('chainChanged', hex), numberToHex(id));
          return { result: null };
        }
        case 'wallet_addEthereumChain':
          return { result: null };
        case 'eth_sendTransaction': {
          if (this.walletChain !== this.chainId) return { error: { code: 4100, message: 'wrong chain' } };
          const tx = params[0];
          const fields = { to: tx.to, data: tx.data, value: tx.value ? BigInt(tx.value) : undefined, gas: tx.gas ? BigInt(tx.gas) : undefined };
          const replace = this.replaceNext;
          this.replaceNext = null;
          if (!replace) return { result: await this.client.sendTransaction(fields) };
          return { result: await this.sendAndReplace(fields, replace) };
        }
        case 'eth_signTypedData_v4': {
          const typed = typeof params[1] === 'string' ? JSON.parse(params[1]) : params[1];
          const { EIP712Domain: _, ...types } = typed.types;
          return { result: await this.account.signTypedData({ domain: typed.domain, types, primaryType: typed.primaryType, message: typed.message }) };
        }
        case 'personal_sign':
          return { result: await this.account.signMessage({ message: { raw: params[0] } }) };
        default: {
          const r = await fetch(this.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
          const body = await r.json();
          return body.error ? { error: body.error } : { result: body.result };
        }
      }
    } catch (e) {
      return { error: { code: -32603, message: e.shortMessage ?? e.message } };
    }
  }
}
