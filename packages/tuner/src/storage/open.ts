import { InMemoryStorage, type Storage, StorageError } from './base.js';
import { JournalFileStorage } from './journal.js';
import { postgresConnection, RdbStorage, sqliteConnection } from './rdb.js';

/**
 * Opens a storage from a URL: `memory`, `journal:<file>` (or a path ending in `.log`/`.journal`),
 * `sqlite:<file>`, `postgres://user:pass@host:port/db` (or `postgresql://`).
 */
export async function openStorage(
  url: string,
  options: { workerId?: string } = {},
): Promise<Storage> {
  if (url === 'memory' || url === '') return new InMemoryStorage();
  if (url.startsWith('journal:'))
    return new JournalFileStorage(url.slice('journal:'.length), options);
  if (/\.(log|journal|jsonl)$/.test(url)) return new JournalFileStorage(url, options);
  if (url.startsWith('sqlite:'))
    return RdbStorage.open(
      await sqliteConnection(url.slice('sqlite:'.length).replace(/^\/\/\//, '/')),
    );
  if (/^postgres(ql)?:\/\//.test(url)) return RdbStorage.open(await postgresConnection(url));
  throw new StorageError(
    `storage "${url}": unknown; allowed: memory, journal:<file> (or *.log), sqlite:<file>, postgres://user:pass@host/db`,
  );
}
