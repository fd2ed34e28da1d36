/**
 * The options of the adaptive concurrency layer (also the config shape of `protection.<name>.adaptive`), their
 * defaults, their validation (`FND_PROTECT_INVALID_POLICY` naming the option) and the construction of the
 * chosen limit algorithm.
 *
 * @module
 */
import { invalidPolicy } from '../errors.js';
import { AIMD_DEFAULTS, AimdLimit, type AimdParams, type AimdSettings } from './aimd-limit.js';
import {
  GRADIENT2_DEFAULTS,
  Gradient2Limit,
  type Gradient2Params,
  type Gradient2Settings,
} from './gradient2-limit.js';
import type { LimitAlgorithm } from './limit-algorithm.js';
import { VEGAS_DEFAULTS, VegasLimit, type VegasParams, type VegasSettings } from './vegas-limit.js';

/** The limit algorithms, the default (`'vegas'`) first. */
export const ADAPTIVE_ALGORITHMS = ['vegas', 'gradient2', 'aimd'] as const;

/** One limit algorithm. */
export type AdaptiveAlgorithm = (typeof ADAPTIVE_ALGORITHMS)[number];

/** Options every algorithm shares. */
export interface AdaptiveCommonOptions {
  /** The limit before any sample. Default 20. */
  readonly initialLimit?: number;
  /** The lowest limit (integer ≥ 1). Default 1. */
  readonly minLimit?: number;
  /** The highest limit (integer ≥ minLimit). Default 200. */
  readonly maxLimit?: number;
  /**
   * Calls whose samples are averaged into one update of the algorithm (integer ≥ 1; 1 = every call). Default:
   * the current limit, about one round trip's worth of calls.
   */
  readonly windowSamples?: number;
  /** Calls that may wait (FIFO) for a slot when the limit is reached; beyond, they are refused. Default 0. */
  readonly maxQueue?: number;
  /**
   * Code only: whether an error out of the inner layers is a drop (an overload signal that lowers the limit).
   * Default: a protection rejection other than `FND_PROTECT_CANCELLED` (a timeout, a full bulkhead…). Errors
   * that are not drops give no sample.
   */
  readonly isDrop?: (error: unknown) => boolean;
  /** Code only: uniform random numbers in [0, 1) (Vegas probe jitter). Default `Math.random`. */
  readonly random?: () => number;
}

/** Options of the adaptive layer: the common ones and the parameters of the chosen algorithm. */
export type AdaptiveOptions =
  | (AdaptiveCommonOptions & VegasParams & { readonly algorithm?: 'vegas' })
  | (AdaptiveCommonOptions & Gradient2Params & { readonly algorithm: 'gradient2' })
  | (AdaptiveCommonOptions & AimdParams & { readonly algorithm: 'aimd' });

/** The defaults of {@link AdaptiveCommonOptions}. */
export const ADAPTIVE_DEFAULTS = { initialLimit: 20, minLimit: 1, maxLimit: 200, maxQueue: 0 } as const;

/** Validated options with every default filled in. */
export type ResolvedAdaptiveOptions = {
  readonly initialLimit: number;
  readonly minLimit: number;
  readonly maxLimit: number;
  readonly maxQueue: number;
  readonly windowSamples: number | undefined;
  readonly isDrop: ((error: unknown) => boolean) | undefined;
} & (
  | { readonly algorithm: 'vegas'; readonly settings: VegasSettings }
  | { readonly algorithm: 'gradient2'; readonly settings: Gradient2Settings }
  | { readonly algorithm: 'aimd'; readonly settings: AimdSettings }
);

const COMMON_KEYS = [
  'algorithm',
  'initialLimit',
  'minLimit',
  'maxLimit',
  'maxQueue',
  'windowSamples',
  'isDrop',
  'random',
];
const PARAM_KEYS: Readonly<Record<AdaptiveAlgorithm, readonly string[]>> = {
  vegas: Object.keys(VEGAS_DEFAULTS),
  gradient2: Object.keys(GRADIENT2_DEFAULTS),
  aimd: Object.keys(AIMD_DEFAULTS),
};

type Check = (value: number) => boolean;

function read(
  options: Readonly<Record<string, unknown>>,
  key: string,
  fallback: number,
  check: Check,
  rule: string,
): number {
  const value = options[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !check(value)) {
    throw invalidPolicy(`Adaptive option "${key}" must be ${rule}`, { option: key, layer: 'adaptive' });
  }
  return value;
}

const isInt1: Check = (v) => Number.isInteger(v) && v >= 1;
const isPositive: Check = (v) => Number.isFinite(v) && v > 0;
const isNonNegative: Check = (v) => Number.isFinite(v) && v >= 0;
const isFraction: Check = (v) => v > 0 && v <= 1;

/**
 * Validates `options` and fills in the defaults. Throws `FND_PROTECT_INVALID_POLICY` naming the first bad
 * option (an unknown algorithm, a bound out of order, a parameter of another algorithm…).
 */
export function validateAdaptiveOptions(options: AdaptiveOptions): ResolvedAdaptiveOptions {
  const raw = options as Readonly<Record<string, unknown>>;
  const algorithm = (raw.algorithm ?? 'vegas') as AdaptiveAlgorithm;
  if (!ADAPTIVE_ALGORITHMS.includes(algorithm)) {
    throw invalidPolicy(`Adaptive option "algorithm" must be one of ${ADAPTIVE_ALGORITHMS.join(', ')}`, {
      option: 'algorithm',
      layer: 'adaptive',
    });
  }
  const allowed = PARAM_KEYS[algorithm];
  for (const key of Object.keys(raw)) {
    if (raw[key] !== undefined && !COMMON_KEYS.includes(key) && !allowed.includes(key)) {
      throw invalidPolicy(
        `Adaptive option "${key.slice(0, 64)}" is not an option of algorithm ${algorithm}`,
        {
          option: key.slice(0, 64),
          layer: 'adaptive',
        },
      );
    }
  }
  for (const key of ['isDrop', 'random']) {
    if (raw[key] !== undefined && typeof raw[key] !== 'function') {
      throw invalidPolicy(`Adaptive option "${key}" must be a function`, { option: key, layer: 'adaptive' });
    }
  }
  const minLimit = read(raw, 'minLimit', ADAPTIVE_DEFAULTS.minLimit, isInt1, 'an integer ≥ 1');
  const maxLimit = read(
    raw,
    'maxLimit',
    Math.max(ADAPTIVE_DEFAULTS.maxLimit, minLimit),
    isInt1,
    'an integer ≥ 1',
  );
  if (maxLimit < minLimit) {
    throw invalidPolicy('Adaptive option "maxLimit" must be ≥ minLimit', {
      option: 'maxLimit',
      layer: 'adaptive',
    });
  }
  const defaultInitial = Math.min(maxLimit, Math.max(minLimit, ADAPTIVE_DEFAULTS.initialLimit));
  const initialLimit = read(
    raw,
    'initialLimit',
    defaultInitial,
    (v) => Number.isInteger(v) && v >= minLimit && v <= maxLimit,
    'an integer within [minLimit, maxLimit]',
  );
  const maxQueue = read(
    raw,
    'maxQueue',
    ADAPTIVE_DEFAULTS.maxQueue,
    (v) => Number.isInteger(v) && v >= 0,
    'an integer ≥ 0',
  );
  const windowSamples =
    raw.windowSamples === undefined ? undefined : read(raw, 'windowSamples', 1, isInt1, 'an integer ≥ 1');
  const isDrop = raw.isDrop as ((error: unknown) => boolean) | undefined;
  const base = { initialLimit, minLimit, maxLimit };
  const common = { ...base, maxQueue, windowSamples, isDrop };
  if (algorithm === 'aimd') {
    const settings: AimdSettings = {
      ...base,
      latencyThresholdMs: read(
        raw,
        'latencyThresholdMs',
        AIMD_DEFAULTS.latencyThresholdMs,
        isPositive,
        '> 0',
      ),
      backoffRatio: read(
        raw,
        'backoffRatio',
        AIMD_DEFAULTS.backoffRatio,
        (v) => v >= 0.5 && v < 1,
        'in [0.5, 1)',
      ),
    };
    return { ...common, algorithm, settings };
  }
  if (algorithm === 'gradient2') {
    const settings: Gradient2Settings = {
      ...base,
      tolerance: read(
        raw,
        'tolerance',
        GRADIENT2_DEFAULTS.tolerance,
        (v) => Number.isFinite(v) && v >= 1,
        '≥ 1',
      ),
      smoothing: read(raw, 'smoothing', GRADIENT2_DEFAULTS.smoothing, isFraction, 'in (0, 1]'),
      longWindow: read(raw, 'longWindow', GRADIENT2_DEFAULTS.longWindow, isInt1, 'an integer ≥ 1'),
      queueSize: read(raw, 'queueSize', GRADIENT2_DEFAULTS.queueSize, isNonNegative, '≥ 0'),
    };
    return { ...common, algorithm, settings };
  }
  const alpha = read(raw, 'alpha', VEGAS_DEFAULTS.alpha, isPositive, '> 0');
  const beta = read(raw, 'beta', VEGAS_DEFAULTS.beta, (v) => Number.isFinite(v) && v > alpha, '> alpha');
  const settings: VegasSettings = {
    ...base,
    alpha,
    beta,
    threshold: read(
      raw,
      'threshold',
      VEGAS_DEFAULTS.threshold,
      (v) => isNonNegative(v) && v <= alpha,
      'in [0, alpha]',
    ),
    smoothing: read(raw, 'smoothing', VEGAS_DEFAULTS.smoothing, isFraction, 'in (0, 1]'),
    probeMultiplier: read(raw, 'probeMultiplier', VEGAS_DEFAULTS.probeMultiplier, isPositive, '> 0'),
    probeLimit: read(raw, 'probeLimit', VEGAS_DEFAULTS.probeLimit, isInt1, 'an integer ≥ 1'),
    random: (raw.random as (() => number) | undefined) ?? Math.random,
  };
  return { ...common, algorithm, settings };
}

/** A limit algorithm whose parameters can change at run time. */
export interface ConfigurableLimit extends LimitAlgorithm {
  /** Applies new settings of the same algorithm, keeping the limit (clamped) and the RTT history. */
  configure(settings: ResolvedAdaptiveOptions['settings']): void;
}

/**
 * Builds the algorithm `resolved` names. With `startLimit`, it starts there (clamped) instead of at
 * `initialLimit` — how a change of algorithm at run time keeps the limit already learnt.
 */
export function createLimitAlgorithm(
  resolved: ResolvedAdaptiveOptions,
  startLimit?: number,
): ConfigurableLimit {
  const initialLimit =
    startLimit === undefined
      ? resolved.initialLimit
      : Math.min(resolved.maxLimit, Math.max(resolved.minLimit, Math.floor(startLimit)));
  switch (resolved.algorithm) {
    case 'aimd': {
      const limit = new AimdLimit({ ...resolved.settings, initialLimit });
      return wrap(limit, (s) => {
        limit.configure(s as AimdSettings);
      });
    }
    case 'gradient2': {
      const limit = new Gradient2Limit({ ...resolved.settings, initialLimit });
      return wrap(limit, (s) => {
        limit.configure(s as Gradient2Settings);
      });
    }
    case 'vegas': {
      const limit = new VegasLimit({ ...resolved.settings, initialLimit });
      return wrap(limit, (s) => {
        limit.configure(s as VegasSettings);
      });
    }
  }
}

function wrap(
  algorithm: LimitAlgorithm,
  configure: (settings: ResolvedAdaptiveOptions['settings']) => void,
): ConfigurableLimit {
  return {
    name: algorithm.name,
    get limit() {
      return algorithm.limit;
    },
    update: (sample) => algorithm.update(sample),
    configure,
  };
}
