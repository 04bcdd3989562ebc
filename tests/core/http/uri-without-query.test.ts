import { describe, expect, it } from 'vitest';
import { MAX_LOGGED_URI_CHARS, uriWithoutQuery } from '../../../core/http/uri-without-query';

describe('uriWithoutQuery', () => {
  it.each([
    ['https://kars.example/api/hooks/github/h1?code=CANARY', 'https://kars.example/api/hooks/github/h1'],
    ['https://kars.example/api/hooks/github/h1#token=CANARY', 'https://kars.example/api/hooks/github/h1'],
    ['https://user:CANARY@kars.example/api/x?y=1', 'https://kars.example/api/x'],
    ['https://a@b:CANARY@kars.example:7071/api/x', 'https://kars.example:7071/api/x'],
    ['/api/hooks/slack/h2?token=CANARY', '/api/hooks/slack/h2'],
    ['/api/hooks/slack/h2;jsessionid=CANARY/x', '/api/hooks/slack/h2;[REDACTED]/x'],
    ['http://127.0.0.1:7071', 'http://127.0.0.1:7071'],
    ['/api/a%3Fb', '/api/a%3Fb'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(uriWithoutQuery(input)).toBe(expected);
    expect(uriWithoutQuery(input)).not.toContain('CANARY');
  });

  it('cuts very long URIs', () => {
    const out = uriWithoutQuery(`/api/${'a'.repeat(5000)}`);
    expect(out.length).toBe(MAX_LOGGED_URI_CHARS + 1);
  });

  it('throws TypeError for a non-string', () => {
    expect(() => uriWithoutQuery(null as never)).toThrow(TypeError);
  });
});
