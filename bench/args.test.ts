import { describe, expect, it } from 'vitest';
import { parseArgs } from './args.js';

describe('parseArgs', () => {
  it('defaults to every suite, table output, full run', () => {
    expect(parseArgs([])).toEqual({
      ok: true,
      args: { suites: [], format: 'table', quick: false, timeMs: undefined, help: false },
    });
  });

  it('collects suite names and flags in any order', () => {
    expect(parseArgs(['registry', '--json', 'errors', '--quick'])).toEqual({
      ok: true,
      args: { suites: ['registry', 'errors'], format: 'json', quick: true, timeMs: undefined, help: false },
    });
    expect(parseArgs(['--markdown', '-h'])).toMatchObject({
      ok: true,
      args: { format: 'markdown', help: true },
    });
  });

  it('reads --time as a separate or an inline value', () => {
    expect(parseArgs(['--time', '250'])).toMatchObject({ ok: true, args: { timeMs: 250 } });
    expect(parseArgs(['--time=1.5', 'context'])).toMatchObject({
      ok: true,
      args: { timeMs: 1.5, suites: ['context'] },
    });
  });

  it('rejects a missing, non-numeric or zero --time', () => {
    expect(parseArgs(['--time'])).toEqual({
      ok: false,
      message: '--time needs a positive number of ms, got ""',
    });
    expect(parseArgs(['--time', 'abc'])).toEqual({
      ok: false,
      message: '--time needs a positive number of ms, got "abc"',
    });
    expect(parseArgs(['--time=0'])).toEqual({
      ok: false,
      message: '--time needs a positive number of ms, got "0"',
    });
  });

  it('rejects unknown options', () => {
    expect(parseArgs(['--fast'])).toEqual({ ok: false, message: 'unknown option "--fast"' });
  });
});
