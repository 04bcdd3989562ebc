// Writes a handler's HttpResponseInit / HttpResponse to the Node response.
import type { ServerResponse } from 'node:http';
import { HttpResponse, type HttpResponseInit } from '@azure/functions';

export async function writeResponse(res: ServerResponse, result: HttpResponseInit | HttpResponse | undefined): Promise<number> {
  const response = result instanceof HttpResponse ? result : new HttpResponse(result ?? { status: 204 });
  const body = Buffer.from(await response.arrayBuffer());
  const headers: Record<string, string> = {};
  response.headers.forEach((v, k) => {
    headers[k] = v;
  });
  if (!headers['content-length']) headers['content-length'] = String(body.length);
  res.writeHead(response.status, headers);
  res.end(body);
  return response.status;
}
