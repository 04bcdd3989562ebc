// T2-R / T3-R: the router's tracer, a real SDK tracer exporting to Application Insights when
// APPLICATIONINSIGHTS_CONNECTION_STRING is set. Without an exporter the daemon leaves it out and every call gets its
// trace and span ids only (call-telemetry.ts). Tests pass their own tracer over an in-memory exporter.
import { AzureMonitorTraceExporter } from '@azure/monitor-opentelemetry-exporter';
import type { Tracer } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

export interface RouterTelemetry {
  readonly tracer: Tracer;
  /** Whether any span reaches a processor; when none would, the router makes ids only and skips the SDK span. */
  readonly exporting: boolean;
  shutdown(): Promise<void>;
}

export function createRouterTelemetry(options: { connectionString?: string; sandboxId: string; processors?: SpanProcessor[] }): RouterTelemetry {
  const processors: SpanProcessor[] = [...(options.processors ?? [])];
  if (options.connectionString) processors.push(new BatchSpanProcessor(new AzureMonitorTraceExporter({ connectionString: options.connectionString })));
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'kars-router', 'kars.sandbox.id': options.sandboxId }),
    spanProcessors: processors,
  });
  return { tracer: provider.getTracer('kars-router'), exporting: processors.length > 0, shutdown: () => provider.shutdown() };
}
