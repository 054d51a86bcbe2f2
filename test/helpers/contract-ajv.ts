/**
 * ajv compiling the whole contract at run time, limits included: what the function did before its
 * request validator was generated (scripts/generate-validator.ts), kept as the reference the generated
 * one is held equal to, and the validator for the contract's response schemas in tests.
 */
import { compileContractSchema } from '../../scripts/generate-validator.ts';
import { contractSchemas, type ReviewLimits, type SchemaName } from '../../src/function/contract/schemas.ts';

/** A validator for one of the contract's schemas under these limits. */
export function contractValidator(limits: ReviewLimits, name: SchemaName) {
  return compileContractSchema(contractSchemas(limits), name).validate;
}
