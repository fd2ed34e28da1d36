/**
 * The SQL of retention on `foundation_events`, for SQLite and PostgreSQL: the condition "governed by this
 * rule" (type ranges and equalities, always parameters), the n-th newest governed position, and one bounded
 * delete batch.
 *
 * @module
 */
import type { RetentionBound, RetentionRule, TypePattern } from './types.js';

/** SQL dialects of retention. */
export type RetentionDialect = 'sqlite' | 'postgres';

/** A statement and its values. */
export interface RetentionStatement {
  readonly text: string;
  readonly values: unknown[];
}

class Params {
  readonly values: unknown[] = [];
  readonly dialect: RetentionDialect;
  constructor(dialect: RetentionDialect) {
    this.dialect = dialect;
  }
  add(value: unknown, cast = ''): string {
    this.values.push(value);
    return this.dialect === 'sqlite' ? '?' : `$${this.values.length}${cast}`;
  }
}

/** `type` matches a pattern: an equality, or a code point range for a prefix (`order.` ≤ type < `order/`). */
function patternSql(pattern: TypePattern, p: Params): string {
  const cast = p.dialect === 'postgres' ? '::text' : '';
  if (pattern.kind === 'all') return 'TRUE';
  if (pattern.kind === 'exact') return `type = ${p.add(pattern.type, cast)}`;
  const upper = `${pattern.prefix.slice(0, -1)}/`; // '/' follows '.' in code point order
  return `(type >= ${p.add(pattern.prefix, cast)} AND type < ${p.add(upper, cast)})`;
}

function governedSql(rule: RetentionRule, p: Params): string {
  const own = patternSql(rule.pattern, p);
  if (rule.excluded.length === 0) return own;
  return `${own} AND NOT (${rule.excluded.map((x) => patternSql(x, p)).join(' OR ')})`;
}

/** The position of the `n`-th newest governed event (one row `position`, or none). */
export function nthNewestSql(dialect: RetentionDialect, rule: RetentionRule, n: number): RetentionStatement {
  const p = new Params(dialect);
  const where = governedSql(rule, p);
  const offset = p.add(n - 1);
  return {
    text: `SELECT position FROM foundation_events WHERE ${where} ORDER BY position DESC LIMIT 1 OFFSET ${offset}`,
    values: p.values,
  };
}

/**
 * One delete batch: at most `limit` governed events within the bound, oldest first (by time for an age bound,
 * by position for a count bound). PostgreSQL joins on position and time, so a partitioned table prunes.
 */
export function deleteBatchSql(
  dialect: RetentionDialect,
  rule: RetentionRule,
  bound: RetentionBound,
  limit: number,
): RetentionStatement {
  const p = new Params(dialect);
  const byTime = bound.beforeTime !== undefined;
  const big = dialect === 'postgres' ? '::bigint' : '';
  // Placeholders in text order (SQLite's `?` are positional): the bound, the rule, the limit.
  const cond = byTime
    ? `time < ${p.add(bound.beforeTime, big)}`
    : `position < ${p.add(bound.beforePosition, big)}`;
  const where = `${cond} AND ${governedSql(rule, p)}`;
  const order = byTime ? 'time, position' : 'position';
  const pick = `SELECT position${dialect === 'postgres' ? ', time' : ''} FROM foundation_events WHERE ${where} ORDER BY ${order} LIMIT ${p.add(limit)}`;
  const text =
    dialect === 'postgres'
      ? `WITH doomed AS (${pick}) DELETE FROM foundation_events e USING doomed d WHERE e.position = d.position AND e.time = d.time`
      : `DELETE FROM foundation_events WHERE position IN (${pick})`;
  return { text, values: p.values };
}
