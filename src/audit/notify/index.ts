import type { Resource } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import type { Config } from '../../config';
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

export { dmpIndexer } from '../../fhir/dmp-indexer';
