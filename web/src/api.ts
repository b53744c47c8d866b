/** The indexer's read-only HTTP API (cairn-indexer `/models`, `/jobs`, …), with failures in plain words. */
import { Plain } from './config';

export class IndexerDown extends Plain {}

/** GET `path` from the indexer at `base` ('' = the app's origin). Throws [`IndexerDown`] when it cannot be
 * reached, [`Plain`] with the API's own error otherwise. */
export async function indexer<T>(base: string, path: string): Promise<T> {
  const url = `${base}${path}`;
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: 'application/json' } });
  } catch (e) {
    throw new IndexerDown(
      `The indexer${base ? ` at ${base}` : ''} cannot be reached (${(e as Error).message}); the market's history is unavailable until it is back.`,
    );
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status >= 500 || response.status === 408 || response.status === 429 || body === null) {
      throw new IndexerDown(`The indexer answered HTTP ${response.status}${body?.error ? `: ${body.error}` : ''}; try again shortly.`);
    }
    throw new Plain(body?.error ?? `The indexer answered HTTP ${response.status} for ${path}.`);
  }
  return body as T;
}

/** Fetches `cid` from the IPFS gateway, at most `maxBytes`. Throws [`Plain`]. */
export async function fromGateway(gateway: string, cid: string, maxBytes: number): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(`${gateway}/ipfs/${cid}`);
  } catch (e) {
    throw new Plain(`The IPFS gateway at ${gateway} cannot be reached (${(e as Error).message}); the file ${cid} cannot be fetched.`);
  }
  if (!response.ok) throw new Plain(`The IPFS gateway answered HTTP ${response.status} for ${cid}.`);
  const length = Number(response.headers.get('content-length') ?? 0);
  if (length > maxBytes) throw new Plain(`${cid} is ${length} bytes, more than the ${maxBytes} this page fetches.`);
  // Read as a stream and stop past the limit (a gateway need not send Content-Length).
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array(await response.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxBytes) {
      await reader.cancel();
      throw new Plain(`${cid} is more than the ${maxBytes} bytes this page fetches.`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return bytes;
}
