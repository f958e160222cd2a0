import { PapyraError } from '@papyra/persistence-contract';

/**
 * Turns a Node fs error into a typed Papyra error that names the file and what we were doing:
 * PAPYRA_NOT_A_FILE, PAPYRA_PERMISSION_DENIED, PAPYRA_NO_SPACE (ENOSPC, EDQUOT), PAPYRA_READ_ONLY
 * (EROFS), else PAPYRA_IO (EIO and the rest); `details.errno` keeps the errno.
 */
export function fsError(error: unknown, path: string, action: string): PapyraError {
  if (PapyraError.isInstance(error)) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const details = { path, action, ...(code !== undefined && { errno: code }) };
  switch (code) {
    case 'EISDIR':
    case 'ENOTDIR':
      return new PapyraError('PAPYRA_NOT_A_FILE', `Cannot ${action} ${path}: it (or a parent) is not a regular file.`, { cause: error, details });
    case 'EACCES':
    case 'EPERM':
      return new PapyraError('PAPYRA_PERMISSION_DENIED', `Cannot ${action} ${path}: permission denied (${code}).`, { cause: error, details });
    case 'ENOSPC':
    case 'EDQUOT':
      return new PapyraError(
        'PAPYRA_NO_SPACE',
        `Cannot ${action} ${path}: ${code === 'EDQUOT' ? 'disk quota exceeded' : 'no space left on the device'} (${code}).`,
        { cause: error, details },
      );
    case 'EROFS':
      return new PapyraError('PAPYRA_READ_ONLY', `Cannot ${action} ${path}: the file system is read-only (${code}).`, { cause: error, details });
    default:
      return new PapyraError('PAPYRA_IO', `Cannot ${action} ${path}: ${(error as Error | undefined)?.message ?? String(error)}`, { cause: error, details });
  }
}

export function notAFileError(path: string): PapyraError {
  return new PapyraError('PAPYRA_NOT_A_FILE', `${path} is not a regular file (a directory or a special file is in the way).`, { details: { path } });
}

/** PAPYRA_LOCKED, naming the lock file, its holder, why it counts as held and how to clear it safely. */
export function lockedError(blocked: {
  dataPath: string;
  lock: string;
  holder: { pid: number; host: string; since: number; start: string | null } | null;
  verdict: { state: 'live' | 'stale' | 'unverifiable'; reason: string };
  purpose: string;
}): PapyraError {
  const { dataPath, lock, holder, verdict, purpose } = blocked;
  const action = purpose === 'write' ? 'write to' : purpose;
  const who = holder
    ? `process ${holder.pid} on host ${holder.host}${holder.start !== null ? ` (process start time ${holder.start})` : ''}, since ${new Date(holder.since).toISOString()}`
    : 'a holder that cannot be identified';
  const advice = !holder
    ? 'Close that instance first.'
    : verdict.state === 'live'
      ? `Wait for it to finish, or stop it; never delete the lock while it runs.`
      : `This host cannot tell whether it still runs (${verdict.reason}). Make sure no process uses ${dataPath} any more (on that host too), then delete ${lock} and retry.`;
  const holderText = verdict.state === 'live' && !holder ? verdict.reason : `${who}; ${verdict.reason}`;
  return new PapyraError('PAPYRA_LOCKED', `Cannot ${action} ${dataPath}: its lock ${lock} is held by ${holderText}. ${advice}`, {
    details: { path: dataPath, lock, purpose, holder, verdict: verdict.state, reason: verdict.reason },
  });
}

export function invalidConfig(message: string, details: Record<string, unknown> = {}): PapyraError {
  return new PapyraError('PAPYRA_INVALID_CONFIG', message, { details });
}

export function invalidArgument(message: string, details: Record<string, unknown> = {}): PapyraError {
  return new PapyraError('PAPYRA_INVALID_ARGUMENT', message, { details });
}
