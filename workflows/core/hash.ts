/**
 * Content hash of a procedure: what an instance pins. Same IR, same hash — whatever the key order
 * of the objects (and so whatever the order of keys in the YAML it came from).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import type { ProcedureIR } from './ir.ts';

/**
 * JSON with object keys sorted (by UTF-16 code units) at every level, no whitespace. Like
 * `JSON.stringify`, object members whose value is `undefined` are left out and array holes become
 * `null`. Throws on values JSON cannot represent (functions, symbols, bigints, non-finite numbers).
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value))
        throw new TypeError(`canonicalJson: ${value} is not representable in JSON`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value))
        return `[${Array.from(value, (v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
      const record = value as Record<string, unknown>;
      const members = Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`);
      return `{${members.join(',')}}`;
    }
    default:
      throw new TypeError(`canonicalJson: a ${typeof value} is not representable in JSON`);
  }
}

/** Hex SHA-256 of the IR's canonical JSON. */
export function hashProcedure(ir: ProcedureIR): string {
  return bytesToHex(sha256(utf8ToBytes(canonicalJson(ir))));
}
