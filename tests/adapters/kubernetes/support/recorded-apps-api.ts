// A small HTTPS server that answers the apps/v1 Deployment calls of the AKS SandboxDriver with the response bodies in
// fixtures/apps-v1-responses.json, so the real @kubernetes/client-node runs over real TLS and HTTP. After a
// server-side apply the Deployment's status walks through the recorded rollout states (not observed, recreating,
// starting, then available, or ProgressDeadlineExceeded for an image listed in `crashingImages`).
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

const RESPONSES = JSON.parse(readFileSync(join(__dirname, '../fixtures/apps-v1-responses.json'), 'utf8')) as Obj;
const PATH = /^\/apis\/apps\/v1\/namespaces\/([a-z0-9-]+)\/deployments\/([a-z0-9-]+)$/;

export interface SeededSandbox {
  namespace: string;
  images: { agent: string; router: string };
  /** The kars revision record already on the Deployment (null: never rolled by kars). */
  record: { current: { id: string; spec: Obj }; previous: Obj | null } | null;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  authorization?: string;
  body?: Obj;
}

export interface RecordedAppsApi {
  url: string;
  requests: RecordedRequest[];
  deployment(namespace: string): Obj | undefined;
  close(): Promise<void>;
}

function seed(s: SeededSandbox): Obj {
  const d = structuredClone(RESPONSES.deployment) as Obj;
  d.metadata.namespace = s.namespace;
  if (s.record) {
    d.metadata.annotations['kars.azure.com/revision'] = s.record.current.id;
    d.metadata.annotations['kars.azure.com/revision-record'] = JSON.stringify(s.record);
    d.spec.template.metadata.annotations['kars.azure.com/revision'] = s.record.current.id;
  } else {
    delete d.metadata.annotations['kars.azure.com/revision'];
    delete d.metadata.annotations['kars.azure.com/revision-record'];
    delete d.spec.template.metadata.annotations;
  }
  d.spec.template.spec.containers[0].image = s.images.agent;
  d.spec.template.spec.containers[1].image = s.images.router;
  return d;
}

function statusOf(phase: string, generation: number): Obj {
  const s = structuredClone(RESPONSES.statusAfterApply[phase]) as Obj;
  s.observedGeneration = phase === 'notObserved' ? generation - 1 : generation;
  return s;
}

export async function startRecordedAppsApi(options: {
  tls: { certPem: string; keyPem: string };
  sandboxes: readonly SeededSandbox[];
  crashingImages?: ReadonlySet<string>;
}): Promise<RecordedAppsApi> {
  const deployments = new Map<string, { obj: Obj; phases: string[] }>();
  for (const s of options.sandboxes) deployments.set(s.namespace, { obj: seed(s), phases: [] });
  const requests: RecordedRequest[] = [];

  const send = (res: import('node:http').ServerResponse, status: number, body: Obj) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
    res.end(text);
  };

  const server: Server = createServer({ cert: options.tls.certPem, key: options.tls.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'https://local');
      const text = Buffer.concat(chunks).toString('utf8');
      const entry: RecordedRequest = {
        method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams),
        ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        ...(text ? { body: JSON.parse(text) as Obj } : {}),
      };
      requests.push(entry);
      const m = PATH.exec(url.pathname);
      const d = m && m[2] === 'kars-sandbox' ? deployments.get(m[1]!) : undefined;
      if (!d) return send(res, 404, RESPONSES.notFound);
      if (req.method === 'GET') {
        // Each read moves the recorded rollout one state on (the last one stays).
        if (d.phases.length > 0) d.obj.status = statusOf(d.phases.length > 1 ? d.phases.shift()! : d.phases[0]!, d.obj.metadata.generation);
        return send(res, 200, d.obj);
      }
      if (req.method === 'PATCH') {
        const body = entry.body ?? {};
        if (body.metadata?.resourceVersion && body.metadata.resourceVersion !== d.obj.metadata.resourceVersion) return send(res, 409, RESPONSES.conflict);
        Object.assign(d.obj.metadata.annotations, body.metadata?.annotations ?? {});
        d.obj.spec.template.metadata.annotations = { ...d.obj.spec.template.metadata.annotations, ...body.spec?.template?.metadata?.annotations };
        for (const c of body.spec?.template?.spec?.containers ?? []) {
          const live = (d.obj.spec.template.spec.containers as Obj[]).find((x) => x.name === c.name);
          if (live) live.image = c.image;
        }
        d.obj.metadata.generation += 1;
        d.obj.metadata.resourceVersion = String(Number(d.obj.metadata.resourceVersion) + 1);
        const images = (d.obj.spec.template.spec.containers as Obj[]).map((c) => c.image as string);
        const crashing = images.some((i) => options.crashingImages?.has(i));
        d.phases = ['notObserved', 'recreating', 'starting', crashing ? 'deadlineExceeded' : 'available'];
        return send(res, 200, d.obj);
      }
      return send(res, 405, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'MethodNotAllowed', code: 405 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `https://localhost:${(server.address() as AddressInfo).port}`,
    requests,
    deployment: (ns) => deployments.get(ns)?.obj,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
