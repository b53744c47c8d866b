/**
 * Job input of `candle/bert-embed@1` (cairn-protocol's `input` module, the same rules and words): a JSON list
 * of UTF-8 strings within the limits that `/app/config.json` carries (`InputLimits::to_json`), checked before
 * anything is paid. test/input.test.ts runs the vectors of testdata/vectors/inputs.json, which the Rust side
 * runs too, so the browser and the runners agree on which inputs are valid.
 */

/** Limits of one job's input (sizes in bytes). */
export interface InputLimits {
  runtime: string;
  maxItems: number;
  maxItemBytes: number;
  maxTotalBytes: number;
}

/** Why an input was refused: what is wrong and what to do, in one sentence. */
export class InputError extends Error {}

const utf8 = new TextEncoder();

/** Unicode's White_Space property (what Rust's `char::is_whitespace` tests; JavaScript's `\s` differs: it
 * includes U+FEFF and lacks U+0085), at either end of a line. */
const WHITE_SPACE_ENDS =
  /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

/** Parses a job input: a non-empty JSON list of strings. Throws [`InputError`]. */
export function parseTexts(bytes: Uint8Array, limits: InputLimits): string[] {
  if (bytes.length > limits.maxTotalBytes) {
    throw new InputError(
      `the input is ${bytes.length} bytes, more than the limit of ${limits.maxTotalBytes} bytes; split it into several jobs`,
    );
  }
  const bom = byteOrderMark(bytes);
  if (bom) {
    throw new InputError(
      `the input starts with a ${bom} byte-order mark; a job input is JSON in UTF-8 without a BOM (RFC 8259 §8.1). ` +
        'Save the file as UTF-8 without BOM and try again: the BOM is part of the bytes the job\'s digest covers',
    );
  }
  let value: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    value = JSON.parse(text);
    // JSON.parse keeps an escaped lone surrogate ("\ud800"); serde_json, and so every runner, refuses it.
    if (Array.isArray(value) && value.some((v) => typeof v === 'string' && !v.isWellFormed())) {
      throw new Error('a string holds a lone UTF-16 surrogate escape');
    }
  } catch (e) {
    throw new InputError(`not JSON (${(e as Error).message}); expected a list of strings like ["a sentence"]`);
  }
  if (!Array.isArray(value)) {
    throw new InputError(`expected a JSON list of strings like ["a sentence"], found ${kind(value)}`);
  }
  if (value.length === 0) throw new InputError('the list is empty; give at least one string');
  if (value.length > limits.maxItems) {
    throw new InputError(`${value.length} items, more than the limit of ${limits.maxItems}; split them into several jobs`);
  }
  value.forEach((item, index) => {
    if (typeof item !== 'string') throw new InputError(`item ${index} is ${kind(item)}, not a string`);
    const size = utf8.encode(item).length;
    if (size > limits.maxItemBytes) {
      throw new InputError(
        `item ${index} is ${size} bytes, more than the limit of ${limits.maxItemBytes} bytes per item`,
      );
    }
  });
  return value as string[];
}

/** A plain text as a job input: one sentence per line (LF or CRLF), blank lines and surrounding whitespace
 * dropped, encoded as the compact JSON list the runtime takes. Throws [`InputError`]. */
export function textsFromLines(bytes: Uint8Array): Uint8Array {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (e) {
    throw new InputError(`the text is not UTF-8 (${(e as Error).message}); save it as UTF-8 and try again`);
  }
  if (text.startsWith('\ufeff')) text = text.slice(1);
  if (text.includes('\0')) {
    throw new InputError('the text file holds NUL bytes: it looks binary, not one sentence per line');
  }
  // Rust's str::lines (split at \n, a trailing \r dropped) and str::trim (Unicode White_Space).
  const lines = text
    .split('\n')
    .map((l) => l.replace(WHITE_SPACE_ENDS, ''))
    .filter((l) => l.length > 0);
  if (lines.length === 0) throw new InputError('the text file has no sentence; write one sentence per line');
  return utf8.encode(JSON.stringify(lines));
}

/** Whether `bytes` look like a JSON document rather than plain text (the first non-blank byte is `[`, `{` or
 * `"`), so a JSON input with a mistake is reported as bad JSON instead of being read as sentences. */
export function looksLikeJson(bytes: Uint8Array): boolean {
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (i < bytes.length && [0x20, 0x09, 0x0a, 0x0d, 0x0c].includes(bytes[i])) i++;
  return i < bytes.length && [0x5b, 0x7b, 0x22].includes(bytes[i]);
}

/** A job input from what a buyer typed or uploaded: JSON when it looks like JSON, else one sentence per line;
 * then checked. Returns the exact bytes to pin (their sha256 is the job's `inputDigest`) and the sentences. */
export function jobInput(bytes: Uint8Array, limits: InputLimits): { bytes: Uint8Array; texts: string[] } {
  const json = looksLikeJson(bytes) ? bytes : textsFromLines(bytes);
  return { bytes: json, texts: parseTexts(json, limits) };
}

function byteOrderMark(b: Uint8Array): string | null {
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return 'UTF-8';
  if ((b[0] === 0xff && b[1] === 0xfe && b[2] === 0 && b[3] === 0) || (b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff)) {
    return 'UTF-32';
  }
  if ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff)) return 'UTF-16';
  return null;
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  switch (typeof v) {
    case 'boolean':
      return 'a boolean';
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    default:
      return 'an object';
  }
}
