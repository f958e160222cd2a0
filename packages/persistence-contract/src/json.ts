import { inspect } from 'node:util';

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/**
 * Turns any value into JSON that can be written. Parts JSON cannot hold (functions, BigInt, symbols,
 * cycles, non-finite numbers, class instances without `toJSON`, Maps, Sets) become a descriptive
 * string made by `util.inspect`, so a payload is never dropped and never throws into the caller.
 */
export function toJsonValue(value: unknown): JsonValue {
  return convert(value, new Set());
}

function convert(value: unknown, ancestors: Set<object>): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'undefined':
      return null;
    case 'bigint':
    case 'symbol':
    case 'function':
      return describe(value);
  }
  if (value === null) return null;
  const object = value as object;
  if (ancestors.has(object)) return describe(object);
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') {
    try {
      return convert((object as { toJSON(): unknown }).toJSON(), ancestors);
    } catch {
      return describe(object);
    }
  }
  ancestors.add(object);
  try {
    if (Array.isArray(object)) return object.map((item) => convert(item, ancestors));
    const proto = Object.getPrototypeOf(object) as object | null;
    if (proto !== Object.prototype && proto !== null) return describe(object);
    const out: JsonObject = {};
    for (const key of Object.keys(object)) {
      const item = (object as Record<string, unknown>)[key];
      if (item === undefined) continue;
      const converted = convert(item, ancestors);
      // A key named "__proto__" must stay data, never a prototype change; plain assignment keeps
      // every other object in V8's fast mode, which JSON.stringify relies on.
      if (key === '__proto__') Object.defineProperty(out, key, { value: converted, enumerable: true, writable: true, configurable: true });
      else out[key] = converted;
    }
    return out;
  } finally {
    ancestors.delete(object);
  }
}

function describe(value: unknown): string {
  try {
    return inspect(value, { depth: 3, breakLength: Infinity, maxArrayLength: 20, maxStringLength: 200 });
  } catch {
    return `[unserialisable ${typeof value}]`;
  }
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
