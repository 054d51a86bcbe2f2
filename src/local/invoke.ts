/**
 * `npm run invoke -- events/<file>.json`: runs the Lambda handler once on an event file and prints the
 * result object as JSON, like `sam local invoke`. Stdout carries only the result; the function's logs go
 * to stderr (as with sam), so the output can be piped to jq.
 */
import { readFile } from 'node:fs/promises';
import { BadRequestError } from '../errors.ts';
import { createLocalContext } from './server.ts';

/** Reads and parses an event file; every failure names the file and what is wrong with it. */
export async function readEventFile(path: string | undefined): Promise<object> {
  if (!path) throw new BadRequestError('usage: npm run invoke -- events/<file>.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new BadRequestError(
      code === 'ENOENT' ? `event file not found: ${path}` : `cannot read ${path}: ${code}`,
    );
  }
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch (error) {
    throw new BadRequestError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new BadRequestError(`${path} must hold a JSON object (an API Gateway event)`);
  }
  return event;
}

async function main(): Promise<void> {
  const event = await readEventFile(process.argv[2]);
  const printResult = process.stdout.write.bind(process.stdout);
  // Everything else the function prints (Powertools logs, tfjs notices) is log output: send it to stderr.
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  const { handler } = await import('../function/index.ts');
  const result = await handler(event as Parameters<typeof handler>[0], createLocalContext());
  await new Promise((resolve) => printResult(`${JSON.stringify(result)}\n`, resolve));
}

if (import.meta.main) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      const message =
        error instanceof BadRequestError ? error.message : `the handler failed: ${String(error)}`;
      console.error(`invoke: ${message}`);
      process.exit(error instanceof BadRequestError ? 2 : 1);
    },
  );
}
