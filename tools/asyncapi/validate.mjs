// Validate an AsyncAPI document with the official parser (@asyncapi/parser).
// Usage: node validate.mjs [path]   (default: ../../docs/events/asyncapi.yaml)
// Prints every diagnostic; exits 1 if any has error severity (0), 2 if the file cannot be read.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Parser, fromFile } from '@asyncapi/parser';

const here = path.dirname(fileURLToPath(import.meta.url));
const file = path.resolve(process.argv[2] ?? path.join(here, '../../docs/events/asyncapi.yaml'));

try {
  await readFile(file);
} catch (err) {
  console.error(`cannot read ${file}: ${err.message}`);
  process.exit(2);
}

const SEVERITY = ['error', 'warning', 'info', 'hint'];
const { document, diagnostics } = await fromFile(new Parser(), file).parse();
for (const d of diagnostics) {
  console.log(`${SEVERITY[d.severity] ?? d.severity} ${d.code} at ${(d.path ?? []).join('.') || '(root)'}: ${d.message}`);
}
const errors = diagnostics.filter((d) => d.severity === 0);
if (!document || errors.length) {
  console.error(`${file}: INVALID (${errors.length} error(s))`);
  process.exit(1);
}
console.log(`${file}: valid AsyncAPI ${document.version()} (${document.channels().length} channels, ${diagnostics.length - errors.length} non-error diagnostic(s))`);
