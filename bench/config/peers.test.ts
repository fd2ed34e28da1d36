import { describe, expect, it } from 'vitest';
import { LEAF_PATHS, SECTION_PATHS, createSettingsConfig, readLeaf } from './settings.js';
import { loadConvict, loadNodeConfig, plainObject, valueAt } from './peers.js';

const PATHS: readonly string[] = [...LEAF_PATHS, ...SECTION_PATHS];
const VARIABLES = [
  'NODE_CONFIG',
  'NODE_CONFIG_DIR',
  'SUPPRESS_NO_CONFIG_WARNING',
  'SUPPRESS_STRICTNESS_CHECK',
];

describe('config bench peers', () => {
  const content = createSettingsConfig().redacted();

  it('holds a 50-leaf, three-level configuration', () => {
    const leaves = (value: unknown): number =>
      typeof value === 'object' && value !== null && !Array.isArray(value)
        ? Object.values(value).reduce<number>((sum, child) => sum + leaves(child), 0)
        : 1;
    expect(leaves(content)).toBe(50);
    expect(LEAF_PATHS).toHaveLength(8); // the cases cycle with `i & 7`
  });

  it('loads node-config and convict with the same content as ours', () => {
    const ours = createSettingsConfig();
    const nodeConfig = loadNodeConfig(content, PATHS);
    const convict = loadConvict(content, PATHS);
    for (const path of PATHS) {
      const expected = valueAt(content, path);
      expect(plainObject(ours.get(path as (typeof LEAF_PATHS)[number]))).toEqual(expected);
      expect(plainObject(nodeConfig.get(path))).toEqual(expected);
      expect(plainObject(convict.get(path))).toEqual(expected);
    }
  });

  it('reads the same leaves with static accesses as with get', () => {
    const ours = createSettingsConfig();
    for (let i = 0; i < 8; i++) expect(readLeaf(ours.snapshot(), i)).toEqual(ours.get(LEAF_PATHS[i]!));
  });

  it('restores the environment after importing node-config', () => {
    const before = VARIABLES.map((n) => process.env[n]);
    loadNodeConfig(content, PATHS);
    expect(VARIABLES.map((n) => process.env[n])).toEqual(before);
  });

  it('refuses a node-config singleton holding other content', () => {
    const other = { ...content, server: { http: { port: 1 } } };
    expect(() => loadNodeConfig(other, ['server.http.port'])).toThrow(/node-config does not hold/);
  });
});
