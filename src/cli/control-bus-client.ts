/**
 * The CLI's HTTP client for a running control bus: GET a JSON document, with a time limit, and turn every
 * failure into a foundation error (`FND_EXTERNAL_NETWORK_ERROR`, `FND_EXTERNAL_TIMEOUT`,
 * `FND_EXTERNAL_SERVICE_ERROR`).
 *
 * @module
 */
import { FoundationError, isErrorCode } from '../errors/index.js';

/** Default control-bus URL of the CLI (the bus's default address). */
export const DEFAULT_URL = 'http://127.0.0.1:4000';

/** A JSON response: HTTP status and parsed body. */
export interface JsonResponse {
  readonly status: number;
  readonly body: unknown;
}

function causeCode(error: unknown): string | undefined {
  const cause = error instanceof Error ? error.cause : undefined;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** GETs `path` from the control bus at `base` and parses the JSON body (problem+json included). */
export function getJson(base: URL, path: string, timeoutMs: number): Promise<JsonResponse> {
  return requestJson(base, path, { timeoutMs });
}

/** Options of {@link requestJson}. */
export interface JsonRequestOptions {
  readonly timeoutMs: number;
  /** Default `GET`. */
  readonly method?: 'GET' | 'POST';
  /** Sent as JSON (`content-type: application/json`). */
  readonly body?: unknown;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string | undefined;
}

/** Sends a request to the control bus at `base` and parses the JSON body (problem+json included). */
export async function requestJson(
  base: URL,
  path: string,
  options: JsonRequestOptions,
): Promise<JsonResponse> {
  const { timeoutMs } = options;
  const url = new URL(path, base);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: options.method ?? 'GET',
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'TimeoutError') {
      throw new FoundationError('FND_EXTERNAL_TIMEOUT', {
        message: `The control bus at ${base.origin} did not answer within ${timeoutMs} ms`,
        context: { url: url.href, timeoutMs },
        cause: error,
      });
    }
    const code = causeCode(error);
    throw new FoundationError('FND_EXTERNAL_NETWORK_ERROR', {
      message: `Cannot reach the control bus at ${base.origin}${code === undefined ? '' : ` (${code})`}`,
      context: { url: url.href, reason: code },
      cause: error,
    });
  }
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as unknown };
  } catch (error) {
    throw new FoundationError('FND_EXTERNAL_SERVICE_ERROR', {
      message: `The control bus at ${base.origin} answered ${response.status} with a body that is not JSON`,
      context: { url: url.href, status: response.status },
      cause: error,
    });
  }
}

/** The `detail` (or `code`) of a problem+json body, for messages. */
export function problemDetail(body: unknown): string {
  if (typeof body !== 'object' || body === null) return 'no details';
  const { detail, code } = body as { detail?: unknown; code?: unknown };
  if (typeof detail === 'string') return typeof code === 'string' ? `${code}: ${detail}` : detail;
  return typeof code === 'string' ? code : 'no details';
}

/**
 * The error a problem+json answer stands for: a FoundationError with the problem's catalog `code` and
 * `detail` (so the CLI prints the server's code), else `FND_EXTERNAL_SERVICE_ERROR` naming the status.
 */
export function problemError(what: string, status: number, body: unknown): FoundationError {
  const { code, detail, context } = (typeof body === 'object' && body !== null ? body : {}) as {
    code?: unknown;
    detail?: unknown;
    context?: unknown;
  };
  if (typeof code === 'string' && isErrorCode(code)) {
    return new FoundationError(code, {
      message: typeof detail === 'string' ? detail : `${what} answered ${status}`,
      context: {
        status,
        ...(typeof context === 'object' && context !== null ? (context as Record<string, unknown>) : {}),
      },
    });
  }
  return new FoundationError('FND_EXTERNAL_SERVICE_ERROR', {
    message: `${what} answered ${status}: ${problemDetail(body)}`,
    context: { status },
  });
}
