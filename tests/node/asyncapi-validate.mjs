// Checks an AsyncAPI document with the AsyncAPI project's own parser.
// Usage: node asyncapi-validate.mjs <file>. Prints every error and exits 1
// when there is one.
import { Parser } from "@asyncapi/parser";
import fs from "fs";

const { document, diagnostics } = await new Parser().parse(fs.readFileSync(process.argv[2], "utf8"));
const errors = diagnostics.filter((d) => d.severity === 0);
for (const d of errors) console.log(`${d.code}: ${d.message} at ${JSON.stringify(d.path)}`);
console.log(JSON.stringify({ valid: Boolean(document) && errors.length === 0, errors: errors.length, diagnostics: diagnostics.length }));
process.exit(document && errors.length === 0 ? 0 : 1);
