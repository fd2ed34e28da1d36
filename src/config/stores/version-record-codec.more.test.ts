/** Rare refusals and shapes of the config version codec: symbol keys, non-object changes, stray rows. */
import { describe, expect, it } from 'vitest';
import type { ConfigVersionRecord } from '../types.js';
import { decodeConfigVersion, encodeConfigVersion, versionConflict } from './version-record-codec.js';
import { refusalOf } from '../../../test/helpers/refusal.js';

const base: ConfigVersionRecord = {
  version: 1,
  at: 1_700_000_000_000,
  kind: 'initial',
  overrides: {},
  config: { a: 1 },
  changes: [],
  node: 'n1',
};

describe('encodeConfigVersion refusals', () => {
  it('refuses a record that is null', () => {
    const error = refusalOf(() => encodeConfigVersion(null as never));
    expect(error.code).toBe('FND_CONFIG_INVALID_STRUCTURE');
    expect(error.message).toContain('record');
  });

  it('refuses symbol keys inside a JSON document', () => {
    const error = refusalOf(() =>
      encodeConfigVersion({ ...base, config: { a: { [Symbol('s')]: 1, b: 2 } } }),
    );
    expect(error.code).toBe('FND_CONFIG_INVALID_STRUCTURE');
    expect(error.message).toContain('holds symbol keys');
  });

  it('refuses a change that is not an object', () => {
    for (const change of [null, 'a', [1]]) {
      const error = refusalOf(() =>
        encodeConfigVersion({ ...base, version: 2, kind: 'update', changes: [change] as never }),
      );
      expect(error.code).toBe('FND_CONFIG_INVALID_STRUCTURE');
      expect(error.message).toContain('must hold objects');
    }
  });
});

describe('decodeConfigVersion', () => {
  it('reads a changes column that is not an array as no changes', () => {
    const record = decodeConfigVersion({
      version: 3,
      at: '1700000000000',
      kind: 'update',
      node: 'n1',
      overrides: '{}',
      config: { a: 2 },
      changes: '{"not":"an array"}',
      rolled_back_to: null,
      reason: null,
      actor: null,
      correlation_id: null,
    });
    expect(record).toEqual({
      version: 3,
      at: 1_700_000_000_000,
      kind: 'update',
      overrides: {},
      config: { a: 2 },
      changes: [],
      node: 'n1',
    });
    expect(Object.isFrozen(record.config)).toBe(true);
  });
});

describe('versionConflict', () => {
  it('counts from 0 when nothing is stored', () => {
    const gap = versionConflict(3, undefined);
    expect(gap.code).toBe('FND_CONFIG_VERSION_CONFLICT');
    expect(gap.message).toBe('Config version 3 would leave a gap after 0; the next version is 1');
    expect(gap.context).toEqual({ version: 3, latest: 0, expected: 1 });
    const taken = versionConflict(1, 1);
    expect(taken.message).toBe(
      'Config version 1 was already written by another writer; the next version is 2',
    );
  });
});
