import { PapyraError } from '@papyra/persistence-contract';

export function invalidConfig(message: string, details?: Record<string, unknown>): PapyraError {
  return new PapyraError('PAPYRA_INVALID_CONFIG', message, details === undefined ? {} : { details });
}

/**
 * What a response may say about an error: its `PAPYRA_*` code or its class name, never its message
 * (drivers put connection strings, commands and payload fragments in messages).
 */
export function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(code)) return code;
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string' && /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name)) return name;
  }
  return 'Error';
}
