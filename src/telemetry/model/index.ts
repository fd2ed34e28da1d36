/**
 * The telemetry capability's pure model: the DDSketch quantile sketch, sliding-window quantiles, bucket
 * histograms and in-memory time-series rings. No I/O; time is passed in.
 *
 * @module
 */
export * from './bucket-store.js';
export * from './ddsketch.js';
export * from './histogram.js';
export * from './invalid-metric.js';
export * from './sliding-window.js';
export * from './time-series.js';
