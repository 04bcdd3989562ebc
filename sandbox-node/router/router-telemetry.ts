// T2-R / T3-R: the router's tracer. Always a real SDK tracer (so every call gets a span id to hand upstream as the
// traceparent's parent), exporting to Application Insights when APPLICATIONINSIGHTS_CONNECTION_STRING is set;
// otherwise spans are made and dropped. Tests pass their own tracer over an in-memory exporter.
import { AzureMonitorTraceExporter } from '@azure/monitor-opentelemetry-exporter';
import type { Tracer } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

export interface RouterTelemetry {
  readonly tracer: Tracer;
  shutdown(): Promise<void>;
}

export function createRouterTelemetry(options: { connectionString?: string; sandboxId: string; processors?: SpanProcessor[] }): RouterTelemetry {
  const processors: SpanProcessor[] = [...(options.processors ?? [])];
  if (options.connectionString) processors.push(new BatchSpanProcessor(new AzureMonitorTraceExporter({ connectionString: options.connectionString })));
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'kars-router', 'kars.sandbox.id': options.sandboxId }),
    spanProcessors: processors,
  });
  return { tracer: provider.getTracer('kars-router'), shutdown: () => provider.shutdown() };
}
