import type Joi from 'joi';
import { DomainError } from '../domain/errors.js';

export type InputSource = 'body' | 'query' | 'params' | 'headers';

/** Dates a request may carry: PostgreSQL, Beijing wall-clock conversion and the card vendor all handle these. */
const EARLIEST_YEAR = 1970;
const LATEST_YEAR = 9999;

/**
 * What no field of any route may hold, checked for every request whatever its schema says: a NUL character
 * (PostgreSQL text and jsonb cannot store one; the query fails with a 500), and a date outside years
 * 1970–9999 (`-004714-…` and `+275760-…` pass joi's ISO check but overflow timestamptz, the Beijing
 * conversion or the vendor's yyyy format).
 */
function firstUnstorable(
  value: unknown,
  path: string[],
  depth = 0,
): { field: string[]; message: string } | undefined {
  const problem = unstorableIn(value, depth);
  if (problem) problem.field.unshift(...path);
  return problem;
}

/** The path is built only for the field that has a problem (on the way back up): none is allocated per key. */
function unstorableIn(value: unknown, depth: number): { field: string[]; message: string } | undefined {
  if (depth > 32) return { field: [], message: 'is nested too deeply' };
  if (typeof value === 'string')
    return value.includes('\u0000') ? { field: [], message: 'must not contain NUL characters' } : undefined;
  if (value instanceof Date) {
    const year = value.getUTCFullYear();
    return Number.isNaN(year) || year < EARLIEST_YEAR || year > LATEST_YEAR
      ? { field: [], message: `must be a time between the years ${EARLIEST_YEAR} and ${LATEST_YEAR}` }
      : undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const key of Object.keys(value)) {
    if (key.includes('\u0000')) return { field: [], message: 'must not have NUL characters in its keys' };
    const problem = unstorableIn((value as Record<string, unknown>)[key], depth + 1);
    if (problem) {
      problem.field.unshift(key);
      return problem;
    }
  }
  return undefined;
}

const OPTIONS: Joi.ValidationOptions = {
  abortEarly: false,
  stripUnknown: false,
  // Trims strings and parses query numbers; fields that must not be coerced (amounts) are strict().
  convert: true,
};
const withOptions = new WeakMap<Joi.Schema, Joi.Schema>();

/**
 * The schema with OPTIONS as its own preferences: joi then merges them once per schema (and caches the
 * result on it) instead of merging an options object on every call (measured on the deduct route).
 */
function prepared<T>(schema: Joi.Schema<T>): Joi.Schema<T> {
  let ready = withOptions.get(schema);
  if (!ready) withOptions.set(schema, (ready = schema.prefs(OPTIONS)));
  return ready as Joi.Schema<T>;
}

/**
 * Validates one part of a request against a joi schema declared next to its route. The first problem
 * becomes a 400 VALIDATION_FAILED naming the field (`body.amountFen`); all problems are in `details`.
 */
export function validate<T>(schema: Joi.Schema<T>, value: unknown, source: InputSource): T {
  const raw = firstUnstorable(value, [source]);
  const result = raw ? undefined : prepared(schema).validate(value ?? {});
  const unstorable = raw ?? (result && !result.error ? firstUnstorable(result.value, [source]) : undefined);
  if (unstorable) {
    const field = unstorable.field.join('.');
    throw new DomainError('VALIDATION_FAILED', `${field}: ${unstorable.message}`, {
      field,
      details: [{ field, message: unstorable.message }],
    });
  }
  if (!result!.error) return result!.value;
  const problems = result!.error.details.map((detail) => ({
    // "at least one of a, b" has no path of its own: name the first field it asks for.
    field: [source, ...(detail.path.length > 0 ? detail.path : firstPeer(detail.context))].join('.'),
    message: detail.message.replace(/^"([^"]*)"/, (_, label: string) => label),
  }));
  const first = problems[0];
  throw new DomainError('VALIDATION_FAILED', `${first.field}: ${first.message}`, {
    field: first.field,
    details: problems,
  });
}

function firstPeer(context: Joi.Context | undefined): string[] {
  const peers = (context as { peers?: unknown } | undefined)?.peers;
  return Array.isArray(peers) && typeof peers[0] === 'string' ? [peers[0]] : [];
}
