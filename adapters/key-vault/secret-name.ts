// Secret names follow Key Vault's rule everywhere (memory, local file, vault), so a name that works locally works in
// Azure, and no name can smuggle path or URL syntax ("../", "/", "?") into a file key or a vault URL.
import { KarsError } from '../../core/errors';

export const SECRET_NAME_PATTERN = /^[0-9a-zA-Z-]{1,127}$/;

/** @throws KarsError SECRET_NAME_INVALID (the message never repeats the name: it may be a value passed by mistake). */
export function assertSecretName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !SECRET_NAME_PATTERN.test(name)) {
    const length = typeof name === 'string' ? name.length : -1;
    throw new KarsError('SECRET_NAME_INVALID', `secret name must be 1-127 characters of 0-9, a-z, A-Z or - (got length ${length})`);
  }
}
