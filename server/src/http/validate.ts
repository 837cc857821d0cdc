import type Joi from 'joi';
import { DomainError } from '../domain/errors.js';

export type InputSource = 'body' | 'query' | 'params' | 'headers';

/**
 * Validates one part of a request against a joi schema declared next to its route. The first problem
 * becomes a 400 VALIDATION_FAILED naming the field (`body.amountFen`); all problems are in `details`.
 */
export function validate<T>(schema: Joi.Schema<T>, value: unknown, source: InputSource): T {
  const result = schema.validate(value ?? {}, {
    abortEarly: false,
    stripUnknown: false,
    // Trims strings and parses query numbers; fields that must not be coerced (amounts) are strict().
    convert: true,
  });
  if (!result.error) return result.value;
  const problems = result.error.details.map((detail) => ({
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
