import { describe, expect, it } from 'vitest';
import { DEFAULT_REPEAT, parseArgs } from './args.js';

const defaults = {
  suites: [],
  format: 'table',
  quick: false,
  timeMs: undefined,
  help: false,
  save: undefined,
  compare: undefined,
  repeat: DEFAULT_REPEAT,
  failOnRegression: false,
};

describe('parseArgs', () => {
  it('defaults to every suite, table output, full run', () => {
    expect(parseArgs([])).toEqual({ ok: true, args: defaults });
  });

  it('collects suite names and flags in any order', () => {
    expect(parseArgs(['registry', '--json', 'errors', '--quick'])).toEqual({
      ok: true,
      args: { ...defaults, suites: ['registry', 'errors'], format: 'json', quick: true },
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

  it('reads --save and --compare with a separate or an inline file, and --repeat', () => {
    expect(parseArgs(['errors', '--save', 'bench/baseline.json', '--time', '1000', '--repeat', '5'])).toEqual(
      {
        ok: true,
        args: { ...defaults, suites: ['errors'], timeMs: 1000, save: 'bench/baseline.json', repeat: 5 },
      },
    );
    expect(parseArgs(['--compare=base.json', '--quick', '--fail-on-regression', '--repeat=1'])).toEqual({
      ok: true,
      args: { ...defaults, quick: true, compare: 'base.json', repeat: 1, failOnRegression: true },
    });
    expect(parseArgs(['--compare', 'base.json'])).toMatchObject({ ok: true, args: { repeat: 3 } });
  });

  it('rejects --save or --compare without a file', () => {
    expect(parseArgs(['--save'])).toEqual({ ok: false, message: '--save needs a file path, got ""' });
    expect(parseArgs(['--compare', '--quick'])).toEqual({
      ok: false,
      message: '--compare needs a file path, got "--quick"',
    });
    expect(parseArgs(['--compare='])).toEqual({ ok: false, message: '--compare needs a file path, got ""' });
  });

  it('rejects a --repeat that is not a whole number of at least 1', () => {
    for (const raw of ['0', '2.5', 'x']) {
      expect(parseArgs(['--save', 'b.json', '--repeat', raw])).toEqual({
        ok: false,
        message: `--repeat needs a whole number ≥ 1, got "${raw}"`,
      });
    }
    expect(parseArgs(['--save', 'b.json', '--repeat'])).toEqual({
      ok: false,
      message: '--repeat needs a whole number ≥ 1, got ""',
    });
  });

  it('rejects combinations that mean nothing', () => {
    expect(parseArgs(['--save', 'a.json', '--compare', 'b.json'])).toEqual({
      ok: false,
      message: '--save and --compare cannot be combined: save a baseline, then compare with it',
    });
    expect(parseArgs(['--fail-on-regression'])).toEqual({
      ok: false,
      message: '--fail-on-regression needs --compare <file>',
    });
    expect(parseArgs(['--save', 'a.json', '--fail-on-regression'])).toEqual({
      ok: false,
      message: '--fail-on-regression needs --compare <file>',
    });
    expect(parseArgs(['--repeat', '3'])).toEqual({
      ok: false,
      message: '--repeat needs --save <file> or --compare <file>',
    });
  });
});
