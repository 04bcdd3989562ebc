// Calls the Function app's routes. The credential goes only in a header, never a URL or cookie (no CSRF): in Azure
// the App Service Authentication session's access token as a bearer, locally the admin key the operator typed into
// this tab (kept in memory, gone on reload).

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string) {
    super(code);
  }
}

let credential: { header: string; value: string } | undefined;

export function useAdminKey(key: string): void {
  credential = { header: 'x-functions-key', value: key };
}

export function hasCredential(): boolean {
  return credential !== undefined;
}

/** In Azure: the signed-in operator's access token from App Service Authentication's token store, if there is one. */
export async function useEasyAuthToken(): Promise<boolean> {
  try {
    const res = await fetch('/.auth/me', { credentials: 'same-origin', cache: 'no-store' });
    if (!res.ok) return false;
    const body = (await res.json()) as Array<{ access_token?: unknown }>;
    const token = Array.isArray(body) ? body[0]?.access_token : undefined;
    if (typeof token !== 'string' || token === '') return false;
    credential = { header: 'authorization', value: `Bearer ${token}` };
    return true;
  } catch {
    return false;
  }
}

export async function api<T>(path: string, init: { method?: 'GET' | 'POST'; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (credential) headers[credential.header] = credential.value;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`/api/${path}`, {
    method: init.method ?? 'GET',
    headers,
    cache: 'no-store',
    // Same-origin only: App Service Authentication's session cookie in Azure; the app itself authorizes by the header.
    credentials: 'same-origin',
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = null;
  }
  if (!res.ok) {
    const code = typeof (body as { code?: unknown } | null)?.code === 'string' ? (body as { code: string }).code : `HTTP_${res.status}`;
    throw new ApiError(res.status, code);
  }
  return body as T;
}
