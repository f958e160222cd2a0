import { PapyraError } from '@papyra/persistence-contract';

export function invalidConfig(message: string, details: Record<string, unknown> = {}): PapyraError {
  return new PapyraError('PAPYRA_INVALID_CONFIG', message, { details });
}

/**
 * A Node fs error of our own set-level operations (rotation, the compaction journal) as a typed
 * error naming the file. Errors of the segment primitives arrive already typed.
 */
export function fsError(error: unknown, path: string, action: string): PapyraError {
  if (PapyraError.isInstance(error)) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const details = { path, action, ...(code !== undefined && { errno: code }) };
  const denied = code === 'EACCES' || code === 'EPERM' || code === 'EROFS';
  return new PapyraError(denied ? 'PAPYRA_PERMISSION_DENIED' : 'PAPYRA_IO', `Cannot ${action} ${path}: ${(error as Error | undefined)?.message ?? String(error)}`, {
    cause: error,
    details,
  });
}
