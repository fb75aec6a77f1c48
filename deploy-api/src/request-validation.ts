import { Ajv, type AnySchema, type Options } from 'ajv';
import ajvFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// ajv-formats is CommonJS: under NodeNext its default import is the module object.
const addFormats = ajvFormats as unknown as typeof ajvFormats.default;

const common: Options = {
  // Fastify strips unknown properties by default; this API rejects them instead.
  removeAdditional: false,
  useDefaults: true,
  allErrors: false,
  // Package settings take a value of several JSON types.
  allowUnionTypes: true,
  // TypeBox schemas carry descriptions and defaults that strict mode would flag.
  strict: false,
};

/**
 * Builds the validator compiler of request parts. Path and query string values arrive as
 * text, so they are coerced to the schema's types. JSON bodies arrive typed and are checked
 * as sent, so `"reason": 7` is rejected and `"appliedRevision": null` stays null instead of
 * becoming 0, as one shared coercing validator would make it.
 */
export function requestValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const bodies = new Ajv({ ...common, coerceTypes: false });
  const text = new Ajv({ ...common, coerceTypes: 'array' });
  addFormats(bodies);
  addFormats(text);
  return ({ schema, httpPart }) =>
    (httpPart === 'body' ? bodies : text).compile(schema as AnySchema);
}
