import type { MetricsScrape } from '@baton/core';
import type { Hono } from 'hono';
import type { GatewayEnv } from '../auth.js';

/**
 * `GET /metrics`: the process's metrics in the Prometheus text format, for a scraper. Open like
 * `/health` (a scraper holds no tenant key); the series name agents, teams, tenants and bundles, never
 * inputs or outputs — bind the gateway or filter the route at the proxy where that is too much.
 */
export function metricsRoute(app: Hono<GatewayEnv>, scrape: MetricsScrape): void {
  app.get('/metrics', async (c) =>
    c.body(await scrape.collect(), 200, { 'content-type': scrape.contentType }),
  );
}
