/**
 * Terminal rendering of a foundation status: a summary line and an aligned table of services.
 *
 * @module
 */
import type { FoundationStatus } from '../app/foundation.js';

/** `3d 04h`, `2h 05m`, `4m 12s`, `12s`; `-` for zero or less. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '-';
  const s = Math.floor(ms / 1000);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${pad(h)}h`;
  if (h > 0) return `${h}h ${pad(m)}m`;
  if (m > 0) return `${m}m ${pad(s % 60)}s`;
  return `${s}s`;
}

/** `512 B`, `1.5 KiB`, `52.1 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit] ?? 'B'}`;
}

/** Lays out rows as left-aligned columns separated by two spaces (no trailing spaces). */
export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

function oneLine(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The lines printed by `foundation status`. */
export function formatStatus(status: FoundationStatus): string[] {
  const summary =
    `foundation ${status.name}  ${status.state}  uptime ${formatDuration(status.uptimeMs)}  ` +
    `rss ${formatBytes(status.process.rssBytes)}  pid ${status.process.pid}  restarts ${status.restarts}`;
  const rows = status.services.map((service) => [
    service.name,
    service.state,
    String(service.restarts),
    formatDuration(service.uptimeMs),
    [...service.dependencies, ...service.optionalDependencies.map((d) => `${d}?`)].join(',') || '-',
    service.lastError === undefined ? '-' : oneLine(`${service.lastError.code} ${service.lastError.message}`),
  ]);
  if (rows.length === 0) return [summary, '', 'no services'];
  return [
    summary,
    '',
    ...formatTable(['NAME', 'STATE', 'RESTARTS', 'UPTIME', 'DEPENDENCIES', 'LAST ERROR'], rows),
  ];
}
