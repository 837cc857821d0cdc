/**
 * Sandbox state that survives a restart (issue 11: "sandboxes keep their state across a restart, so a drill
 * can restart everything"). Both sandboxes keep their books in memory as plain objects, Maps and Dates with
 * shared references (a trade points at the same merchant object as the merchant map). A snapshot is that
 * object graph as JSON with references kept (`$id` / `$ref`), written atomically (temp file + rename) at
 * most every `everyMs` while anything changed, and when the sandbox closes. A `kill -9` loses at most the
 * last interval; a graceful stop loses nothing.
 *
 * One mechanism for both sandboxes: give it the objects to keep (`fields`), mark it dirty on every request,
 * and call `restore` before serving. Class instances are kept by their fields and restored into the live
 * instance, so their methods stay.
 */
import { createPrivateKey, createPublicKey, KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

type Encoded = unknown;

export function encodeGraph(root: unknown): Encoded {
  const ids = new Map<object, number>();
  const encode = (value: unknown): Encoded => {
    if (value === null || typeof value !== 'object') return typeof value === 'bigint' ? String(value) : value;
    if (value instanceof Date) return { $date: value.toISOString() };
    if (Buffer.isBuffer(value)) return { $buf: value.toString('base64') };
    if (value instanceof KeyObject)
      return value.type === 'private'
        ? { $privateKey: value.export({ type: 'pkcs8', format: 'pem' }).toString() }
        : { $publicKey: value.export({ type: 'spki', format: 'pem' }).toString() };
    const seen = ids.get(value);
    if (seen !== undefined) return { $ref: seen };
    const id = ids.size;
    ids.set(value, id);
    if (value instanceof Map) return { $id: id, $map: [...value].map(([k, v]) => [encode(k), encode(v)]) };
    if (value instanceof Set) return { $id: id, $set: [...value].map(encode) };
    if (Array.isArray(value)) return { $id: id, $arr: value.map(encode) };
    const fields: Record<string, Encoded> = {};
    for (const [key, item] of Object.entries(value))
      if (typeof item !== 'function') fields[key] = encode(item);
    return { $id: id, $obj: fields };
  };
  return encode(root);
}

export function decodeGraph(encoded: Encoded): unknown {
  const byId = new Map<number, unknown>();
  const decode = (value: Encoded): unknown => {
    if (value === null || typeof value !== 'object') return value;
    const node = value as Record<string, unknown>;
    if ('$date' in node) return new Date(node.$date as string);
    if ('$buf' in node) return Buffer.from(node.$buf as string, 'base64');
    if ('$privateKey' in node) return createPrivateKey(node.$privateKey as string);
    if ('$publicKey' in node) return createPublicKey(node.$publicKey as string);
    if ('$ref' in node) return byId.get(node.$ref as number);
    const id = node.$id as number;
    if ('$map' in node) {
      const map = new Map();
      byId.set(id, map);
      for (const [k, v] of node.$map as Array<[Encoded, Encoded]>) map.set(decode(k), decode(v));
      return map;
    }
    if ('$set' in node) {
      const set = new Set();
      byId.set(id, set);
      for (const item of node.$set as Encoded[]) set.add(decode(item));
      return set;
    }
    if ('$arr' in node) {
      const array: unknown[] = [];
      byId.set(id, array);
      for (const item of node.$arr as Encoded[]) array.push(decode(item));
      return array;
    }
    const object: Record<string, unknown> = {};
    byId.set(id, object);
    for (const [key, item] of Object.entries(node.$obj as Record<string, Encoded>))
      object[key] = decode(item);
    return object;
  };
  return decode(encoded);
}

/** Puts saved fields back into live objects: Maps and Sets refilled in place, other fields assigned. */
function restoreInto(target: Record<string, unknown>, saved: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(saved)) {
    const current = target[key];
    if (current instanceof Map && value instanceof Map) {
      current.clear();
      for (const [k, v] of value) current.set(k, v);
    } else if (current instanceof Set && value instanceof Set) {
      current.clear();
      for (const item of value) current.add(item);
    } else if (Array.isArray(current) && Array.isArray(value)) {
      current.splice(0, current.length, ...value);
    } else {
      target[key] = value;
    }
  }
}

export interface SandboxSnapshot {
  /** Something changed: save within `everyMs`. */
  markDirty(): void;
  /** Saves now if anything changed. */
  flush(): void;
  /** Saves and stops the timer. */
  close(): void;
}

/** A live object whose own fields (all, or the named ones) are state to keep. */
export interface StatePart {
  live: object;
  fields?: string[];
}

/**
 * Keeps `parts` (name → a live object, e.g. the card ledger) in `file`. Restores them from the file if it
 * exists, then saves while they change.
 */
export function keepSandboxState(
  file: string,
  parts: Record<string, StatePart>,
  options: { everyMs?: number; onError?: (error: Error) => void } = {},
): SandboxSnapshot {
  if (fs.existsSync(file)) {
    const saved = decodeGraph(JSON.parse(fs.readFileSync(file, 'utf8'))) as Record<
      string,
      Record<string, unknown>
    >;
    for (const [name, part] of Object.entries(parts))
      if (saved[name]) restoreInto(part.live as Record<string, unknown>, saved[name]);
  }
  let dirty = false;
  const save = () => {
    if (!dirty) return;
    dirty = false;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const temp = `${file}.${process.pid}.tmp`;
      const fields = Object.fromEntries(
        Object.entries(parts).map(([name, part]) => [
          name,
          Object.fromEntries(
            Object.entries(part.live).filter(([key]) => !part.fields || part.fields.includes(key)),
          ),
        ]),
      );
      fs.writeFileSync(temp, JSON.stringify(encodeGraph(fields)));
      fs.renameSync(temp, file);
    } catch (error) {
      dirty = true;
      options.onError?.(error as Error);
    }
  };
  const timer = setInterval(save, options.everyMs ?? 500);
  timer.unref();
  return {
    markDirty: () => {
      dirty = true;
    },
    flush: save,
    close() {
      clearInterval(timer);
      save();
    },
  };
}
