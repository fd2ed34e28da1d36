/**
 * The telemetry exporters: Prometheus (pull, text 0.0.4 and OpenMetrics), StatsD / DogStatsD (push over UDP)
 * and the OpenTelemetry bridge (through `@opentelemetry/api`).
 *
 * @module
 */
export {
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
  PrometheusExporter,
  acceptsOpenMetrics,
  prometheusBaseName,
  prometheusName,
  renderPrometheus,
  type PrometheusExporterOptions,
  type PrometheusRenderOptions,
  type PrometheusScrape,
} from './prometheus.js';
export { StatsdExporter, type StatsdExporterOptions } from './statsd.js';
export { StatsdLineBuilder, packLines, type StatsdLineOptions, type StatsdPacket } from './statsd-lines.js';
export { OtelBridge, type OtelBridgeOptions } from './otlp.js';
