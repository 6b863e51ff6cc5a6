import type { Resource } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import { accessFacets, accessIndexEntries } from '../../access/facets';
import type { AccessMatrix } from '../../access/matrix';
import type { Config } from '../../config';
import { createIndexer } from '../../fhir/search/extract';
import type { IndexEntry } from '../../fhir/search/index-entry';
import type { ResourceStore } from '../../store/port';
import { Notifier, type NotifierOptions } from './notifier';
import { senderFromConfig } from './senders';

export { Notifier, type InteractionSummary, type NotifierDeps, type NotifierOptions } from './notifier';

/**
 * The notifier the configuration asks for: the NOTIFY_SENDER sender, the
 * NOTIFY_MAX_ATTEMPTS / NOTIFY_RETRY_MS retry policy, over the app's store.
 * server.ts starts it after listen and stops it on shutdown.
 * @see https://hl7.org/fhir/R4/communication.html
 */
export function createNotifier(
  config: Pick<Config, 'notify'>,
  deps: { store: ResourceStore; indexer: { extract(r: Resource): IndexEntry[] }; logger: Logger; now?: () => number; options?: NotifierOptions },
): Notifier {
  return new Notifier({
    store: deps.store,
    indexer: deps.indexer,
    sender: senderFromConfig(config.notify),
    logger: deps.logger,
    now: deps.now,
    options: { maxAttempts: config.notify.maxAttempts, retryMs: config.notify.retryMs, ...deps.options },
  });
}

/**
 * The indexer createApp builds (search parameters plus the access entries of
 * src/access/facets.ts), for the server writes that bypass FhirService: the
 * Communications must be indexed exactly as if written through it, or the
 * patient's searches would miss them (and the access filter could not
 * place them in the DMP).
 */
export function dmpIndexer(baseUrl: string, matrix: AccessMatrix): { extract(r: Resource): IndexEntry[] } {
  const base = createIndexer({ baseUrl });
  return { extract: (r) => [...base.extract(r), ...accessIndexEntries(accessFacets(r, matrix))] };
}
