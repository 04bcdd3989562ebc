import { describe, expect, it } from 'vitest';
import { matchRouterRoute } from '../../../core/router/model-route';

describe('matchRouterRoute', () => {
  it('maps the OpenAI form onto /openai/v1', () => {
    const r = matchRouterRoute('POST', '/v1/chat/completions');
    expect(r).toMatchObject({ ok: true, value: { operation: 'chat', style: 'openai', upstreamPath: '/openai/v1/chat/completions' } });
    expect(matchRouterRoute('POST', '/v1/embeddings')).toMatchObject({ ok: true, value: { operation: 'embeddings' } });
    expect(matchRouterRoute('POST', '/v1/responses')).toMatchObject({ ok: true, value: { operation: 'responses' } });
  });
  it('keeps the Azure form with only api-version', () => {
    const r = matchRouterRoute('POST', '/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21');
    expect(r).toMatchObject({ ok: true, value: { deployment: 'gpt-4o', upstreamPath: '/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21' } });
    for (const q of ['', '?api-version=2024-10-21&api-key=x', '?api-version=x%2F..', '?foo=1']) {
      const bad = matchRouterRoute('POST', `/openai/deployments/gpt-4o/embeddings${q}`);
      expect(bad.ok ? 'ok' : bad.code, q).toBe('INPUT_INVALID');
    }
  });
  it('refuses other paths, dot segments, encodings and methods', () => {
    for (const p of ['/v1/models', '/v1/chat/completions/../x', '/openai/deployments/../chat/completions?api-version=v1', '/v1%2Fchat', '//v1/embeddings', '/admin']) {
      const r = matchRouterRoute('POST', p);
      expect(r.ok ? 'ok' : r.code, p).toBe('NOT_FOUND');
    }
    expect(matchRouterRoute('GET', '/v1/chat/completions')).toMatchObject({ ok: false, code: 'METHOD_NOT_ALLOWED' });
    expect(matchRouterRoute('POST', '/v1/embeddings?x=1')).toMatchObject({ ok: false, code: 'INPUT_INVALID' });
    // Absolute-form (a plain HTTP_PROXY request) is never proxied: only CONNECT tunnels are (docs/router-egress.md).
    expect(matchRouterRoute('POST', 'http://example.com/v1/chat/completions')).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    expect(matchRouterRoute('GET', '/healthz')).toMatchObject({ ok: true, value: { kind: 'health' } });
  });
});
