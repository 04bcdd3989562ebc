// Test helpers: a real fetch `Headers` as the case-insensitive lookup (what the edge builds from HttpRequest).
import type { HeaderLookup } from '../../../core/webhook/types';

export function headerLookup(record: Record<string, string>): HeaderLookup {
  const headers = new Headers(record);
  return (name) => headers.get(name) ?? undefined;
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
