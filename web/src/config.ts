/**
 * `/app/config.json`, written by cairn-indexer (`--app-dir`): the chain, the contracts, the indexer, the relay
 * and the IPFS gateway. The app refuses a deployment whose interface version it does not speak.
 */
import type { Address } from 'viem';
import { INTERFACE_VERSION } from './generated/abi';
import type { InputLimits } from './input';

/** The version of Cairn's contract interfaces this app speaks (CairnVersion.sol, cairn-chain's
 * INTERFACE_VERSION, which scripts/abi.mjs copies with the ABIs). */
export const SPEAKS_INTERFACE_VERSION = INTERFACE_VERSION;

export interface Config {
  chainId: number;
  chainName: string;
  rpcUrl: string;
  interfaceVersion: number;
  contracts: Record<string, Address>;
  deploymentBlock: number;
  /** The indexer's base URL; empty: the app's own origin. */
  indexerUrl: string;
  relayUrl: string | null;
  gatewayUrl: string;
  inputLimits: Record<string, InputLimits>;
}

/** A failure the user can act on, in plain words. */
export class Plain extends Error {}

const REQUIRED = ['JobMarket', 'ModelRegistry', 'DisputeDesk', 'ReexecutionCommittee', 'OperatorRegistry'];

/** Checks a parsed config.json. Throws [`Plain`] naming what is missing or not spoken. */
export function checkConfig(raw: unknown): Config {
  const c = raw as Partial<Config>;
  if (!c || typeof c !== 'object') throw new Plain('The app configuration is not a JSON object.');
  if (c.interfaceVersion !== SPEAKS_INTERFACE_VERSION) {
    throw new Plain(
      `This deployment speaks Cairn interface version ${c.interfaceVersion ?? '(none)'}, and this app speaks version ` +
        `${SPEAKS_INTERFACE_VERSION}. Open the app served by an indexer of a matching deployment, or update the app.`,
    );
  }
  if (!Number.isSafeInteger(c.chainId) || typeof c.rpcUrl !== 'string' || typeof c.gatewayUrl !== 'string') {
    throw new Plain('The app configuration lacks chainId, rpcUrl or gatewayUrl; the indexer that serves it is misconfigured.');
  }
  const missing = REQUIRED.filter((n) => !c.contracts?.[n]);
  if (missing.length) throw new Plain(`The app configuration names no address for ${missing.join(', ')}.`);
  return { indexerUrl: '', relayUrl: null, inputLimits: {}, chainName: `chain ${c.chainId}`, deploymentBlock: 0, ...c } as Config;
}

/** Fetches and checks `config.json` next to the app. */
export async function loadConfig(url = 'config.json'): Promise<Config> {
  let response: Response;
  try {
    response = await fetch(url, { cache: 'no-store' });
  } catch (e) {
    throw new Plain(`The app configuration (${url}) could not be loaded: ${(e as Error).message}. Is cairn-indexer running?`);
  }
  if (!response.ok) {
    throw new Plain(
      `The app configuration (${url}) answered HTTP ${response.status}; start cairn-indexer with --app-dir so it serves the app and its configuration.`,
    );
  }
  return checkConfig(await response.json().catch(() => null));
}
