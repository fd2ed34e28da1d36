/**
 * Regenerates the metrics table of `docs/telemetry.md` from the declarations. `--check` writes nothing and
 * exits with status 1 when the file is out of date.
 *
 * @module
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import {
  METRICS_BEGIN_MARKER,
  METRICS_END_MARKER,
  renderMetricsTable,
} from '../src/telemetry/metrics-doc.js';

const DOC_PATH = fileURLToPath(new URL('../docs/telemetry.md', import.meta.url));

const text = await readFile(DOC_PATH, 'utf8');
const begin = text.indexOf(METRICS_BEGIN_MARKER);
const end = text.indexOf(METRICS_END_MARKER);
if (begin < 0 || end < begin) {
  console.error(`docs/telemetry.md has no ${METRICS_BEGIN_MARKER} … ${METRICS_END_MARKER} block`);
  process.exit(1);
}
const replaced = text.slice(0, begin) + renderMetricsTable() + text.slice(end + METRICS_END_MARKER.length);
const formatted = await prettier.format(replaced, {
  ...(await prettier.resolveConfig(DOC_PATH)),
  filepath: DOC_PATH,
});
if (process.argv.includes('--check')) {
  if (formatted !== text) {
    console.error('docs/telemetry.md is out of date: run npx tsx scripts/gen-telemetry-doc.ts');
    process.exit(1);
  }
} else {
  await writeFile(DOC_PATH, formatted);
  console.log('docs/telemetry.md: metrics table written');
}
