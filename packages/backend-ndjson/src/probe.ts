import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PapyraError } from '@papyra/persistence-contract';
import { fsError, notAFileError } from './errors.js';

/**
 * Checks that a store file could be written now, changing nothing: the file, when it exists, is a
 * regular file this process may read and write in a directory it may create entries in (the
 * lock lives beside it); otherwise the nearest existing directory on its path is one it may create
 * entries in (the first write creates the missing directories). `path` is resolved through links.
 */
export async function probePath(path: string): Promise<void> {
  let current = path;
  for (;;) {
    let isFile: boolean;
    try {
      const info = await stat(current);
      isFile = info.isFile();
      if (current === path ? !isFile : !info.isDirectory()) throw notAFileError(current);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const parent = dirname(current);
      if (code === 'ENOENT' && parent !== current) {
        current = parent;
        continue;
      }
      throw fsError(error, current, 'look at');
    }
    try {
      await access(current, isFile ? constants.R_OK | constants.W_OK : constants.W_OK | constants.X_OK);
    } catch (error) {
      throw fsError(error, current, isFile ? 'write to' : 'create files in');
    }
    if (isFile) {
      try {
        await access(dirname(current), constants.W_OK | constants.X_OK);
      } catch (error) {
        throw fsError(error, dirname(current), 'create the lock file in');
      }
    }
    return;
  }
}

/**
 * Settles like `work`, unless `timeoutMs` passes first (rejects with `onTimeout()`) or the signal
 * aborts (PAPYRA_ABORTED). The work itself cannot be cancelled; its late outcome is ignored.
 */
export function bounded<T>(work: Promise<T>, timeoutMs: number, signal: AbortSignal | undefined, onTimeout: () => PapyraError): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
    };
    const abort = () => {
      done();
      reject(new PapyraError('PAPYRA_ABORTED', 'The operation was aborted.', { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      done();
      reject(onTimeout());
    }, timeoutMs);
    signal?.addEventListener('abort', abort, { once: true });
    work.then(
      (value) => {
        done();
        resolve(value);
      },
      (error: unknown) => {
        done();
        reject(error);
      },
    );
  });
}
