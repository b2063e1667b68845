/** JSON values as the interpreter sees them: plain data, safe to store as a row. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Size in bytes of the UTF-8 JSON text, as the payload limits count it. */
export function byteSize(v: unknown): number {
  return Buffer.byteLength(JSON.stringify(v) ?? 'null', 'utf8');
}

/** Structural equality of two JSON values (object key order ignored). */
export function jsonEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEquals(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && jsonEquals(a[k], b[k]));
  }
  return false;
}

/** Makes an unknown value (e.g. a JSONata result) plain JSON: drops undefined and functions, copies. */
export function toJson(v: unknown): Json {
  const text = JSON.stringify(v);
  return text === undefined ? null : (JSON.parse(text) as Json);
}
