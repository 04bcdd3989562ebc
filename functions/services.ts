// Composition root for the Function app: builds adapters from config once per process and hands them to handlers.
import type { HealthProbe } from '../core/ports/health-probe.port';
import type { Logger } from '../core/ports/logger.port';
import { createJsonLogger } from '../adapters/logging/json-logger';
import { loadConfig, type Config } from './config';

export interface Services {
  config: Config;
  logger: Logger;
  healthProbes: HealthProbe[];
}

let pending: Promise<Services> | undefined;

export async function buildServices(config: Config): Promise<Services> {
  const logger = createJsonLogger({ component: 'functions' });
  return { config, logger, healthProbes: [] };
}

/** Lazily builds the process-wide services from process.env (the Functions host's app settings). */
export function getServices(): Promise<Services> {
  pending ??= buildServices(loadConfig(process.env));
  return pending;
}

/** For the local host and tests: install services built elsewhere. */
export function _setServices(services: Services): void {
  pending = Promise.resolve(services);
}
