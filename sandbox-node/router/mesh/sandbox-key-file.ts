// The sandbox's Ed25519 countersigning key (T4-S): a PKCS#8 PEM file from the pod's secret volume (locally generated
// by the stack). The private key stays in this process; only the raw public key leaves (into the registry record).
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { KarsError } from '../../../core/errors';
import { sandboxSignerFromSeed, type SandboxSigner } from '../../../core/mesh/bridge/router-countersignature';

export async function loadSandboxSigner(sandboxId: string, file: string): Promise<SandboxSigner> {
  let pem: string;
  try {
    pem = await fs.readFile(file, 'utf8');
  } catch {
    throw new KarsError('CONFIG_INVALID', 'invalid settings: KARS_MESH_SANDBOX_KEY_FILE unreadable');
  }
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('not ed25519');
    const seed = Buffer.from(key.export({ format: 'jwk' }).d!, 'base64url');
    const pub = Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x!, 'base64url');
    return sandboxSignerFromSeed(sandboxId, new Uint8Array(seed), new Uint8Array(pub));
  } catch {
    throw new KarsError('CONFIG_INVALID', 'invalid settings: KARS_MESH_SANDBOX_KEY_FILE is not an Ed25519 PKCS#8 key');
  }
}
