/**
 * ajv compiling the whole contract at run time, limits included: what the function did before its
 * request validator was generated (scripts/generate-validator.ts), kept as the reference the generated
 * one is held equal to, and the validator for the contract's response schemas in tests.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { VALIDATOR_OPTIONS } from '../../scripts/generate-validator.ts';
import { contractSchemas, type ReviewLimits, type SchemaName } from '../../src/function/contract/schemas.ts';

const CONTRACT_ID = 'urn:review-sentiment:contract';

/** A validator for one of the contract's schemas under these limits. */
export function contractValidator(limits: ReviewLimits, name: SchemaName) {
  const ajv = new Ajv2020(VALIDATOR_OPTIONS);
  ajv.addKeyword('components');
  ajv.addSchema({ $id: CONTRACT_ID, components: { schemas: contractSchemas(limits) } });
  return ajv.compile({ $ref: `${CONTRACT_ID}#/components/schemas/${name}` });
}
