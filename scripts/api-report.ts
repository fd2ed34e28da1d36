/**
 * The public API gate: one API Extractor run per package entry point, the reports under `api/`, and the
 * markdown reference under `docs/api/` (API Documenter) generated from the same runs.
 *
 * Usage (needs `dist/`, so the npm scripts build first):
 *
 * - `npm run api` — `npx tsx scripts/api-report.ts`: rewrites `api/*.api.md` and `docs/api/**`.
 * - `npm run api:check` — `npx tsx scripts/api-report.ts --check`: writes nothing; exits with status 1 when an
 *   export has no TSDoc (`ae-undocumented`), when a report differs from the committed one (the public surface
 *   changed: run `npm run api` and commit the new report so the change shows in review), or when `docs/api/` is
 *   out of date.
 *
 * The entry points are read from the `exports` map of `package.json`, so a new subpath gets a report without
 * touching this file. All the API Extractor settings live in {@link extractorConfig} below (there is no
 * `api-extractor.json`). Message policy:
 *
 * - `ae-undocumented` is an error: every exported declaration and member carries TSDoc.
 * - `ae-missing-release-tag` is off: the project does not use `@public`/`@beta` release tags.
 * - `ae-forgotten-export` is a warning written into the report (`// Warning: (ae-forgotten-export) …`): a type
 *   reachable from the public surface but not exported by the entry point shows in review, without forcing
 *   every helper type into the public surface.
 *
 * The generated files are formatted with the project's Prettier settings and contain no dates, so running the
 * script twice gives no diff.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CompilerState,
  Extractor,
  ExtractorConfig,
  ExtractorLogLevel,
  ExtractorMessageCategory,
  type ExtractorMessage,
  type IConfigFile,
} from '@microsoft/api-extractor';
import { TSDocTagSyntaxKind } from '@microsoft/tsdoc';
import * as prettier from 'prettier';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REPORT_DIR = join(ROOT, 'api');
const DOCS_DIR = join(ROOT, 'docs', 'api');

/** One public entry point of the package: its subpath, its declaration file and its report name. */
export interface EntryPoint {
  /** The import specifier users write, e.g. `@elixirscope/foundation/protection`. */
  readonly specifier: string;
  /** Absolute path of the entry's `.d.ts` in `dist/`. */
  readonly typesPath: string;
  /** Base name of the report file, e.g. `foundation-protection` for `api/foundation-protection.api.md`. */
  readonly reportName: string;
  /** A valid package name for the doc model (API Extractor rejects a subpath), e.g. `@elixirscope/foundation-protection`. */
  readonly modelName: string;
}

interface PackageJson {
  readonly name: string;
  readonly version: string;
  readonly exports: Record<string, string | { readonly types?: string }>;
}

/** Reads the entry points from the `exports` map of `package.json` (entries without `types` are skipped). */
export function entryPoints(pkg: PackageJson): EntryPoint[] {
  const unscoped = pkg.name.replace(/^@[^/]+\//, '');
  return Object.entries(pkg.exports).flatMap(([subpath, target]) => {
    if (typeof target === 'string' || target.types === undefined) return [];
    const sub = subpath.replace(/^\.\/?/, '');
    return [
      {
        specifier: sub === '' ? pkg.name : `${pkg.name}/${sub}`,
        typesPath: join(ROOT, target.types),
        reportName: sub === '' ? unscoped : `${unscoped}-${sub.replaceAll('/', '-')}`,
        modelName: sub === '' ? pkg.name : `${pkg.name}-${sub.replaceAll('/', '-')}`,
      },
    ];
  });
}

/** The API Extractor settings for one entry point: the single place where they are configured. */
export function extractorConfig(entry: EntryPoint, tempDir: string): IConfigFile {
  return {
    projectFolder: ROOT,
    mainEntryPointFilePath: entry.typesPath,
    compiler: {
      overrideTsconfig: {
        compilerOptions: {
          target: 'ES2023',
          lib: ['ES2023', 'DOM'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          exactOptionalPropertyTypes: true,
          skipLibCheck: true,
          types: ['node'],
        },
        files: [entry.typesPath],
      },
    },
    apiReport: {
      enabled: true,
      reportFileName: entry.reportName,
      // Both folders are temporary: the script formats the report and compares it with api/ itself.
      reportFolder: join(tempDir, 'reports'),
      reportTempFolder: join(tempDir, 'reports-temp'),
      includeForgottenExports: false,
    },
    docModel: { enabled: true, apiJsonFilePath: join(tempDir, 'model', `${entry.reportName}.api.json`) },
    dtsRollup: { enabled: false },
    tsdocMetadata: { enabled: false },
    messages: {
      compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Warning } },
      extractorMessageReporting: {
        default: { logLevel: ExtractorLogLevel.Warning },
        'ae-undocumented': { logLevel: ExtractorLogLevel.Error, addToApiReportFile: false },
        'ae-missing-release-tag': { logLevel: ExtractorLogLevel.None },
        'ae-forgotten-export': { logLevel: ExtractorLogLevel.Warning, addToApiReportFile: true },
      },
      tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.Warning } },
    },
  };
}

/** A message from API Extractor, with the entry points that reported it (re-exports report it once each). */
interface Finding {
  readonly error: boolean;
  readonly text: string;
  readonly entries: string[];
}

/** Runs API Extractor on every entry point; reports and doc models land in `tempDir`. */
export function extract(entries: readonly EntryPoint[], version: string, tempDir: string): Finding[] {
  mkdirSync(join(tempDir, 'reports'), { recursive: true });
  const findings = new Map<string, Finding>();
  const prepare = (
    entry: EntryPoint,
    tsdocConfigFile?: ExtractorConfig['tsdocConfigFile'],
  ): ExtractorConfig =>
    ExtractorConfig.prepare({
      configObject: extractorConfig(entry, tempDir),
      configObjectFullPath: undefined,
      packageJson: { name: entry.modelName, version },
      packageJsonFullPath: join(ROOT, 'package.json'),
      ...(tsdocConfigFile === undefined ? {} : { tsdocConfigFile }),
    });
  const first = entries[0];
  if (first === undefined) return [];
  // API Extractor's standard TSDoc tags plus `@module`, which the sources use on file comments.
  const tsdoc = prepare(first).tsdocConfigFile;
  tsdoc.addTagDefinition({ tagName: '@module', syntaxKind: TSDocTagSyntaxKind.BlockTag });
  tsdoc.setSupportForTag('@module', true);
  let compilerState: CompilerState | undefined;
  for (const entry of entries) {
    const config = prepare(entry, tsdoc);
    compilerState ??= CompilerState.create(config, {
      additionalEntryPoints: entries.map((e) => e.typesPath),
    });
    const result = Extractor.invoke(config, {
      localBuild: true,
      compilerState,
      messageCallback: (message: ExtractorMessage) => {
        message.handled = true;
        // Console messages ("report created", "analysis will use…") are progress, not findings.
        if (message.category === ExtractorMessageCategory.Console) return;
        const error = message.logLevel === ExtractorLogLevel.Error;
        if (!error && message.logLevel !== ExtractorLogLevel.Warning) return;
        const where =
          message.sourceFilePath === undefined
            ? ''
            : `${relative(ROOT, message.sourceFilePath)}:${String(message.sourceFileLine ?? 0)} `;
        const text = `${where}(${message.messageId}) ${message.text}`;
        const known = findings.get(text);
        if (known === undefined) findings.set(text, { error, text, entries: [entry.reportName] });
        else known.entries.push(entry.reportName);
      },
    });
    if (!result.succeeded && result.errorCount === 0) {
      findings.set(`${entry.reportName} failed`, {
        error: true,
        text: `${entry.reportName}: API Extractor failed`,
        entries: [entry.reportName],
      });
    }
  }
  return [...findings.values()].sort((a, b) => a.text.localeCompare(b.text, 'en'));
}

/** Formats a generated markdown file with the project's Prettier settings. */
async function formatMarkdown(text: string, filePath: string): Promise<string> {
  const options = (await prettier.resolveConfig(filePath)) ?? {};
  return prettier.format(text, { ...options, filepath: filePath });
}

/**
 * Replaces the doc-model package names (API Extractor rejects a subpath in a package name) with the import
 * specifiers users write: `@elixirscope/foundation-errors` and the `foundation-errors package` heading become
 * `@elixirscope/foundation/errors`.
 */
export function useSpecifiers(text: string, entries: readonly EntryPoint[]): string {
  // Longest first, so `@elixirscope/foundation-errors` is not half-replaced by a shorter name.
  const renames = entries
    .filter((e) => e.modelName !== e.specifier)
    .sort((a, b) => b.modelName.length - a.modelName.length);
  let result = text;
  for (const e of renames) {
    const unscoped = e.modelName.replace(/^@[^/]+\//, '');
    result = result
      .replaceAll(`"${e.modelName}"`, `"${e.specifier}"`)
      .replaceAll(`[${e.modelName}]`, `[${e.specifier}]`)
      .replaceAll(`## ${unscoped} package`, `## ${e.specifier} package`);
  }
  return result;
}

/** The API reports, formatted, keyed by path relative to the repository root. */
async function renderReports(entries: readonly EntryPoint[], tempDir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of entries) {
    const raw = useSpecifiers(
      readFileSync(join(tempDir, 'reports-temp', `${entry.reportName}.api.md`), 'utf8'),
      entries,
    );
    const path = join(REPORT_DIR, `${entry.reportName}.api.md`);
    files.set(relative(ROOT, path), await formatMarkdown(raw, path));
  }
  return files;
}

/** The paragraph under the title of `docs/api/README.md`: what the reference is and how it is made. */
const INDEX_INTRO = `The reference of every public entry point of the package, generated from the TSDoc comments of the
sources by \`npm run api\` (\`scripts/api-report.ts\`: API Extractor, then API Documenter). Do not edit these
files: change the comment in \`src/\` and run \`npm run api\`. The API reports in [\`api/\`](../../api/) (one
\`*.api.md\` per entry point) show every change to the public surface in review; \`npm run api:check\` fails
when they or these pages are out of date, or when an export has no TSDoc summary.
`;

/**
 * The markdown reference: API Documenter over the doc models, with the model names replaced by the import
 * specifiers users write and `index.md` renamed `README.md` (the folder's landing page).
 */
async function renderDocs(entries: readonly EntryPoint[], tempDir: string): Promise<Map<string, string>> {
  const out = join(tempDir, 'docs');
  execFileSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', '@microsoft', 'api-documenter', 'bin', 'api-documenter'),
      'markdown',
      '--input-folder',
      join(tempDir, 'model'),
      '--output-folder',
      out,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const files = new Map<string, string>();
  for (const name of readdirSync(out).sort()) {
    // API Documenter writes CRLF; Prettier writes LF in the end, but the edits below look for LF.
    let text = useSpecifiers(
      readFileSync(join(out, name), 'utf8').replaceAll('\r\n', '\n'),
      entries,
    ).replaceAll('](./index.md)', '](./README.md)');
    if (name === 'index.md')
      text = text.replace('## API Reference\n', `## API Reference\n\n${INDEX_INTRO}\n`);
    const path = join(DOCS_DIR, name === 'index.md' ? 'README.md' : name);
    files.set(relative(ROOT, path), await formatMarkdown(text, path));
  }
  return files;
}

/** Files currently under `dir` (relative to the repository root) whose name ends with `suffix`. */
function existingFiles(dir: string, suffix: string): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith(suffix))
      .map((name) => relative(ROOT, join(dir, name)));
  } catch {
    return [];
  }
}

/** Compares the wanted files with the tree; with `write`, brings the tree up to date. Returns the differences. */
export function sync(
  wanted: ReadonlyMap<string, string>,
  existing: readonly string[],
  write: boolean,
): string[] {
  const differences: string[] = [];
  for (const [path, text] of wanted) {
    let current: string | undefined;
    try {
      current = readFileSync(join(ROOT, path), 'utf8');
    } catch {
      current = undefined;
    }
    if (current === text) continue;
    differences.push(`${current === undefined ? 'missing' : 'differs'}: ${path}`);
    if (write) {
      mkdirSync(dirname(join(ROOT, path)), { recursive: true });
      writeFileSync(join(ROOT, path), text);
    }
  }
  for (const path of existing) {
    if (wanted.has(path)) continue;
    differences.push(`stale: ${path}`);
    if (write) rmSync(join(ROOT, path));
  }
  return differences;
}

async function main(): Promise<number> {
  const check = process.argv.includes('--check');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
  const entries = entryPoints(pkg);
  const tempDir = mkdtempSync(join(tmpdir(), 'api-report-'));
  try {
    const findings = extract(entries, pkg.version, tempDir);
    const reports = await renderReports(entries, tempDir);
    const docs = await renderDocs(entries, tempDir);
    const changes = [
      ...sync(reports, existingFiles(REPORT_DIR, '.api.md'), !check),
      ...sync(docs, existingFiles(DOCS_DIR, '.md'), !check),
    ];
    const errors = findings.filter((f) => f.error);
    for (const f of findings) {
      const line = `${f.text} [${f.entries.join(', ')}]`;
      if (f.error) console.error(`error ${line}`);
      else console.warn(`warning ${line}`);
    }
    const verb = check ? 'out of date' : 'updated';
    for (const change of changes) console.log(`${verb} ${change}`);
    console.log(
      `api: ${String(entries.length)} entry points, ${String(errors.length)} errors, ` +
        `${String(findings.length - errors.length)} warnings, ${String(changes.length)} files ${verb}`,
    );
    if (check && changes.length > 0) {
      console.error('The public API or its docs changed: run `npm run api` and commit api/ and docs/api/.');
    }
    if (errors.length > 0) console.error('Every export needs a TSDoc summary (ae-undocumented above).');
    return errors.length > 0 || (check && changes.length > 0) ? 1 : 0;
  } finally {
    rmSync(tempDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
