import { describe, expect, it } from 'vitest';
import type { FoundationStatus } from '../app/foundation.js';
import { formatBytes, formatDuration, formatStatus, formatTable } from './status-format.js';

describe('status formatting', () => {
  it('formats durations and sizes', () => {
    expect(formatDuration(0)).toBe('-');
    expect(formatDuration(999)).toBe('0s');
    expect(formatDuration(12_500)).toBe('12s');
    expect(formatDuration(252_000)).toBe('4m 12s');
    expect(formatDuration(7_500_000)).toBe('2h 05m');
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000)).toBe('3d 04h');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(52.1 * 1024 * 1024)).toBe('52.1 MiB');
  });

  it('aligns table columns without trailing spaces', () => {
    expect(
      formatTable(
        ['A', 'BB'],
        [
          ['long-value', 'x'],
          ['s', ''],
        ],
      ),
    ).toEqual(['A           BB', 'long-value  x', 's']);
  });

  it('renders a status summary and one row per service', () => {
    const status: FoundationStatus = {
      id: 'id',
      name: 'orders',
      state: 'running',
      startedAt: 1,
      uptimeMs: 65_000,
      restarts: 2,
      services: [
        {
          name: 'db',
          state: 'running',
          restarts: 0,
          startedAt: 1,
          uptimeMs: 65_000,
          lastError: undefined,
          dependencies: [],
          optionalDependencies: [],
          restartPolicy: 'permanent',
          boot: 'required',
        },
        {
          name: 'worker',
          state: 'backoff',
          restarts: 2,
          startedAt: undefined,
          uptimeMs: 0,
          lastError: { code: 'FND_LIFECYCLE_SERVICE_FAILED', message: 'queue\nlost', at: 5 },
          dependencies: ['db'],
          optionalDependencies: ['cache'],
          restartPolicy: 'permanent',
          boot: 'required',
        },
      ],
      process: { pid: 42, node: 'v20.0.0', rssBytes: 1024 * 1024, heapUsedBytes: 1 },
    };
    expect(formatStatus(status)).toEqual([
      'foundation orders  running  uptime 1m 05s  rss 1.0 MiB  pid 42  restarts 2',
      '',
      'NAME    STATE    RESTARTS  UPTIME  DEPENDENCIES  LAST ERROR',
      'db      running  0         1m 05s  -             -',
      'worker  backoff  2         -       db,cache?     FND_LIFECYCLE_SERVICE_FAILED queue lost',
    ]);
  });
});
