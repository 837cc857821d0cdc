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
    field: [source, ...detail.path].join('.'),
    message: detail.message.replace(/^"([^"]*)"/, (_, label: string) => label),
  }));
  const first = problems[0];
  throw new DomainError('VALIDATION_FAILED', `${first.field}: ${first.message}`, {
    field: first.field,
    details: problems,
  });
}
