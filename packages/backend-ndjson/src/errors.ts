import { PapyraError } from '@papyra/persistence-contract';

/** Turns a Node fs error into a typed Papyra error that names the file and what we were doing. */
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
    case 'EROFS':
      return new PapyraError('PAPYRA_PERMISSION_DENIED', `Cannot ${action} ${path}: permission denied (${code}).`, { cause: error, details });
    default:
      return new PapyraError('PAPYRA_IO', `Cannot ${action} ${path}: ${(error as Error | undefined)?.message ?? String(error)}`, { cause: error, details });
  }
}

export function notAFileError(path: string): PapyraError {
  return new PapyraError('PAPYRA_NOT_A_FILE', `${path} is not a regular file (a directory or a special file is in the way).`, { details: { path } });
}

export function lockedError(path: string, holder: { pid: number; host: string } | null, purpose: string): PapyraError {
  const who = holder ? `process ${holder.pid} on ${holder.host}` : 'another backend instance in this process';
  return new PapyraError('PAPYRA_LOCKED', `Cannot ${purpose} ${path}: it is locked by ${who}.`, { details: { path, purpose, holder } });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new PapyraError('PAPYRA_ABORTED', 'The operation was aborted.', { cause: signal.reason });
}

export function invalidConfig(message: string, details: Record<string, unknown> = {}): PapyraError {
  return new PapyraError('PAPYRA_INVALID_CONFIG', message, { details });
}
