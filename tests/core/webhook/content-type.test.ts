import { describe, expect, it } from 'vitest';
import { checkContentType } from '../../../core/webhook/content-type';
import { WEBHOOK_CHANNELS } from '../../../core/webhook/types';

describe('checkContentType', () => {
  it.each(['application/json', 'Application/JSON', 'application/json; charset=utf-8', 'application/json;charset="UTF-8"'])(
    'accepts %j for every channel',
    (ct) => {
      for (const channel of WEBHOOK_CHANNELS) expect(checkContentType(channel, ct)).toEqual({ ok: true });
    },
  );

  it.each([
    undefined, '', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=iso-8859-1',
    'application/json; boundary=x', 'application/json; charset=utf-8; x=y', 'application/jsonx', 'multipart/form-data',
    `application/json; charset=utf-8${' '.repeat(300)}`,
  ])('refuses %j with HTTP_CONTENT_TYPE_UNSUPPORTED', (ct) => {
    expect(checkContentType('slack', ct)).toEqual({ ok: false, code: 'HTTP_CONTENT_TYPE_UNSUPPORTED' });
  });
});
