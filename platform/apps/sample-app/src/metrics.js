'use strict';
// The contract's metrics, in a registry of our own (served on the http and the metrics port).
const client = require('prom-client');

// Same buckets in both apps, so dashboards and alert rules treat them alike.
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LABELS = ['method', 'route', 'status'];

function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  return {
    registry,
    requestsTotal: new client.Counter({
      name: 'http_requests_total', help: 'HTTP requests served.', labelNames: LABELS, registers: [registry],
    }),
    requestDuration: new client.Histogram({
      name: 'http_request_duration_seconds', help: 'HTTP request duration in seconds.',
      labelNames: LABELS, buckets: BUCKETS, registers: [registry],
    }),
    appInfo: new client.Gauge({
      name: 'app_info', help: 'Version and colour of this process (always 1).',
      labelNames: ['version', 'color'], registers: [registry],
    }),
  };
}

module.exports = { createMetrics };
