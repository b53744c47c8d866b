import { describe, expect, it } from 'vitest';
import { Plain, SPEAKS_INTERFACE_VERSION, checkConfig } from '../src/config';

const contracts = Object.fromEntries(
  ['JobMarket', 'ModelRegistry', 'DisputeDesk', 'ReexecutionCommittee', 'OperatorRegistry'].map((n, i) => [n, `0x${String(i + 1).padStart(40, '0')}`]),
);
const good = { chainId: 31337, rpcUrl: 'http://127.0.0.1:8545', gatewayUrl: 'http://127.0.0.1:8080', interfaceVersion: SPEAKS_INTERFACE_VERSION, contracts };

describe('/app/config.json', () => {
  it('accepts a deployment of the interface version the app speaks, with defaults for optional fields', () => {
    const c = checkConfig(good);
    expect([c.chainId, c.relayUrl, c.indexerUrl]).toEqual([31337, null, '']);
  });

  it('refuses another interface version, saying which', () => {
    for (const v of [SPEAKS_INTERFACE_VERSION - 1, SPEAKS_INTERFACE_VERSION + 1, undefined]) {
      expect(() => checkConfig({ ...good, interfaceVersion: v })).toThrow(Plain);
      expect(() => checkConfig({ ...good, interfaceVersion: v })).toThrow(`this app speaks version ${SPEAKS_INTERFACE_VERSION}`);
    }
  });

  it('names what is missing', () => {
    expect(() => checkConfig({ ...good, contracts: { JobMarket: contracts.JobMarket } })).toThrow('no address for ModelRegistry');
    expect(() => checkConfig({ ...good, rpcUrl: undefined })).toThrow('lacks chainId, rpcUrl or gatewayUrl');
    expect(() => checkConfig(null)).toThrow('not a JSON object');
  });
});
