/**
 * The control bus's metrics routes (all `GET`, no token; `HEAD` too):
 *
 * - `GET /metrics` — every metric of the foundation in the Prometheus text format 0.0.4
 *   (`text/plain; version=0.0.4`), or OpenMetrics 1.0 (`application/openmetrics-text; version=1.0.0`) when
 *   the `accept` header asks for `application/openmetrics-text`. 404 `FND_CONFIG_NOT_FOUND` while
 *   `foundation.telemetry.prometheus.enabled` is false.
 * - `GET /api/metrics` → `{ names, exporters }`: the metrics with recorded in-memory series and the
 *   exporters' counters.
 * - `GET /api/metrics/series?name=&resolution=fine|coarse&since=` → `{ name, resolution, series }`: the
 *   in-memory series of one metric (`fine`: 1 s points of the last 15 minutes, the default; `coarse`: 1 min
 *   points of the last 24 hours), points from `since` (wall ms) if given. A metric that is defined but has
 *   recorded nothing yet answers `series: []`; an unknown name 404 `FND_DATA_NOT_FOUND`.
 *
 * Query strings are checked strictly: an unknown or repeated parameter, or a value out of its bounds, is 400
 * `FND_HTTP_BAD_REQUEST` naming the parameter.
 *
 * The dashboard's request and 5xx charts read `foundation.control_bus.responses` (responses by status class,
 * one of the foundation's metrics).
 *
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { FoundationMetrics } from '../app/foundation-telemetry.js';
import { FoundationError } from '../errors/index.js';
import { acceptsOpenMetrics } from '../telemetry/exporters/prometheus.js';
import type { SeriesResolution } from '../telemetry/model/time-series.js';
import { badRequest, queryParams } from './query-params.js';
import type { RequestContexts } from './request-contexts.js';

/** What {@link registerMetricsRoutes} needs. */
export interface MetricsRouteDependencies {
  /** The foundation's metrics (`foundation.metrics`). */
  readonly metrics: FoundationMetrics;
  readonly requests: RequestContexts;
}

/** Longest accepted metric name (as the registry accepts them). */
const MAX_NAME_CHARS = 200;
/** A metric name as the registry accepts them (`foundation.control_bus.requests`). */
const METRIC_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
const RESOLUTIONS: readonly SeriesResolution[] = ['fine', 'coarse'];
const SERIES_PARAMS: readonly string[] = ['name', 'resolution', 'since'];

/** The checked query of `GET /api/metrics/series`. */
interface SeriesQuery {
  readonly name: string;
  readonly resolution: SeriesResolution;
  readonly since: number | undefined;
}

/** Reads the query of `GET /api/metrics/series`; throws 400 `FND_HTTP_BAD_REQUEST` naming the parameter. */
export function parseSeriesQuery(raw: unknown, correlationId: string): SeriesQuery {
  const params = queryParams(raw, SERIES_PARAMS, correlationId);
  const name = params.get('name');
  if (name === undefined || name === '') {
    throw badRequest(
      'The name parameter is required, e.g. ?name=foundation.control_bus.requests',
      correlationId,
      { parameter: 'name' },
    );
  }
  if (name.length > MAX_NAME_CHARS || !METRIC_NAME.test(name)) {
    throw badRequest(
      `name must be a metric name of at most ${MAX_NAME_CHARS} characters: dotted lower-case words ` +
        '(letters, digits, "_"), e.g. foundation.runtime.heap_used',
      correlationId,
      { parameter: 'name' },
    );
  }
  const resolution = params.get('resolution') ?? 'fine';
  if (!(RESOLUTIONS as readonly string[]).includes(resolution)) {
    throw badRequest('resolution must be "fine" or "coarse"', correlationId, { parameter: 'resolution' });
  }
  const sinceText = params.get('since');
  let since: number | undefined;
  if (sinceText !== undefined) {
    since = /^\d{1,16}$/.test(sinceText) ? Number(sinceText) : Number.NaN;
    if (!Number.isSafeInteger(since)) {
      throw badRequest('since must be a time in ms since the epoch: an integer from 0', correlationId, {
        parameter: 'since',
      });
    }
  }
  return { name, resolution: resolution as SeriesResolution, since };
}

/** Registers the metrics routes on `app`. */
export function registerMetricsRoutes(app: FastifyInstance, deps: MetricsRouteDependencies): void {
  const { metrics, requests } = deps;
  const correlationOf = (request: FastifyRequest): string => requests.contextOf(request).correlationId;

  app.get('/metrics', (request, reply) => {
    const correlationId = correlationOf(request);
    queryParams(request.query, [], correlationId);
    if (!metrics.prometheusEnabled) {
      throw new FoundationError('FND_CONFIG_NOT_FOUND', {
        message:
          'Prometheus exposition is disabled on this node (foundation.telemetry.prometheus.enabled is false)',
        context: { path: 'foundation.telemetry.prometheus.enabled' },
        correlationId,
      });
    }
    const scrape = metrics.render({ openMetrics: acceptsOpenMetrics(request.headers.accept) });
    return reply.header('content-type', scrape.contentType).send(scrape.body);
  });

  app.get('/api/metrics', (request) => {
    queryParams(request.query, [], correlationOf(request));
    return { names: metrics.seriesNames(), exporters: metrics.exporters() };
  });

  app.get('/api/metrics/series', (request) => {
    const correlationId = correlationOf(request);
    const query = parseSeriesQuery(request.query, correlationId);
    const series = metrics.series(query.name, query.resolution, query.since);
    if (series.length === 0) {
      const defined = metrics.registry.definitions().some((definition) => definition.name === query.name);
      if (!defined && !metrics.seriesNames().includes(query.name)) {
        throw new FoundationError('FND_DATA_NOT_FOUND', {
          message: `No metric named ${query.name}`,
          context: { metric: query.name },
          correlationId,
        });
      }
    }
    return {
      name: query.name,
      resolution: query.resolution,
      series: series.map((recorded) => ({ tags: recorded.tags, key: recorded.key, points: recorded.points })),
    };
  });
}
