import { MongoNetworkError, MongoServerError, MongoServerSelectionError } from 'mongodb';
import { StoreUnavailable } from '../port';

/**
 * Whether an error means "try again later" rather than a bug: the server is
 * unreachable or has no primary, the driver labels the write retryable, or
 * (FerretDB's SQLite backend) the database file is locked by a concurrent
 * writer.
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof MongoNetworkError || err instanceof MongoServerSelectionError) {
    return true;
  }
  if (err instanceof MongoServerError) {
    return (
      err.hasErrorLabel('RetryableWriteError') ||
      err.hasErrorLabel('TransientTransactionError') ||
      /SQLITE_BUSY|database is locked/i.test(err.message)
    );
  }
  return false;
}

/** Runs `op`, turning transient database errors into StoreUnavailable (503). */
export async function guarded<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (isTransient(err)) {
      throw new StoreUnavailable(err instanceof Error ? err.name : 'database error');
    }
    throw err;
  }
}
