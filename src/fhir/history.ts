import { historyKey, type HistoryPage, type HistoryQuery } from '../store/port';
import { bundleJson, historyEntry, pageLinks } from './bundles';
import { errors } from './outcomes';
import { dateRange } from './search/values';
import { FORMAT_PARAMETERS } from './format-params';

/** Paging limits for history, from configuration. */
export interface PageLimits {
  defaultCount: number;
  maxCount: number;
}

/** Parameters of a history request, validated. */
export interface HistoryParams {
  count: number;
  since?: string;
  cursor?: HistoryQuery['cursor'];
  /** The parameters echoed in the `self` link (without the cursor). */
  selfParams: [string, string][];
}

/**
 * Reads `_count`, `_since` and the paging cursor of a history request.
 * `_at` and `_list` are not supported (400); unknown parameters are refused
 * (400) unless the client asked for lenient handling.
 * @see https://hl7.org/fhir/R4/http.html#history
 */
export function parseHistoryParams(params: readonly [string, string][], limits: PageLimits, lenient: boolean): HistoryParams {
  const out: HistoryParams = { count: limits.defaultCount, selfParams: [] };
  for (const [name, value] of params) {
    switch (name) {
      case '_count': {
        const n = Number(value);
        if (!/^\d+$/.test(value) || n < 1) {
          throw errors.badRequest(`_count must be a positive integer (got "${value}")`, '_count');
        }
        out.count = Math.min(n, limits.maxCount);
        out.selfParams.push(['_count', String(out.count)]);
        break;
      }
      case '_since': {
        const range = dateRange(value);
        if (!range) {
          throw errors.badRequest(`_since must be a FHIR instant (got "${value}")`, '_since');
        }
        out.since = new Date(range.low).toISOString();
        out.selfParams.push(['_since', value]);
        break;
      }
      case '_cursor':
        out.cursor = decodeHistoryCursor(value);
        break;
      case '_at':
      case '_list':
        throw errors.badRequest(`History parameter ${name} is not supported by this server`, name);
      default:
        if (!FORMAT_PARAMETERS.has(name) && !lenient) {
          throw errors.badRequest(`Unknown history parameter "${name}"`, name);
        }
    }
  }
  return out;
}

/** Opaque, URL-safe form of a history position. */
export function encodeHistoryCursor(key: string, direction: 'older' | 'newer'): string {
  return Buffer.from(`${direction === 'older' ? 'o' : 'n'}${key}`, 'utf8').toString('base64url');
}

const KEY_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\|[A-Za-z]+\|[A-Za-z0-9\-.]{1,64}\|\d{10}$/;

function decodeHistoryCursor(token: string): HistoryQuery['cursor'] {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  const key = text.slice(1);
  if ((text[0] !== 'o' && text[0] !== 'n') || !KEY_RE.test(key)) {
    throw errors.badRequest('Invalid _cursor value', '_cursor');
  }
  return { key, direction: text[0] === 'o' ? 'older' : 'newer' };
}

/**
 * The history Bundle (newest first) with self/next/previous links. `path` is
 * the request path below the base, e.g. `Patient/1/_history`.
 */
export function historyBundleJson(baseUrl: string, path: string, params: HistoryParams, page: HistoryPage): string {
  const n = page.entries.length;
  const link = pageLinks(`${baseUrl}/${path}`, params.selfParams, {
    next: n > 0 && page.hasOlder ? encodeHistoryCursor(historyKey(page.entries[n - 1]), 'older') : undefined,
    previous: n > 0 && page.hasNewer ? encodeHistoryCursor(historyKey(page.entries[0]), 'newer') : undefined,
  });
  return bundleJson(
    { type: 'history', total: page.total, link },
    page.entries.map((v) => historyEntry(baseUrl, v)),
  );
}
