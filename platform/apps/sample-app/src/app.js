'use strict';
// The HTTP contract: routes, fault control, contract headers, metrics and central error handling.
const os = require('node:os');
const express = require('express');
const { APP_NAME } = require('./logger');

const ERROR_CODES = { 400: 'bad_request', 404: 'not_found', 405: 'method_not_allowed', 413: 'too_large', 500: 'internal_error' };
const MESSAGES = { 404: 'not found', 405: 'method not allowed', 500: 'internal server error' };

class HttpError extends Error {
  constructor(status, message) {
    super(message || MESSAGES[status] || 'error');
    this.status = status;
    this.expose = true;
  }
}

class InjectedFault extends Error {}

function sendError(res, status, message) {
  res.status(status).json({ error: ERROR_CODES[status] || 'error', message: message || MESSAGES[status] || 'error', status });
}

// X-App-Version always; Connection: close when draining (checked as headers go out, so requests
// in flight at SIGTERM close too) or when this keep-alive connection is older than its max age.
function contractHeaders(config, lifecycle) {
  const maxAgeMs = config.maxConnectionAgeSeconds * 1000;
  return (req, res, next) => {
    res.setHeader('X-App-Version', config.appVersion);
    const born = req.socket.connectedAt;
    const tooOld = maxAgeMs > 0 && born !== undefined && performance.now() - born >= maxAgeMs;
    const writeHead = res.writeHead;
    res.writeHead = function writeHeadWithContract(...args) {
      if (tooOld || lifecycle.draining) this.setHeader('Connection', 'close');
      return writeHead.apply(this, args);
    };
    next();
  };
}

function observe(metrics, logger, count) {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const route = req.route ? req.baseUrl + req.route.path : 'unmatched';
      const labels = { method: req.method, route, status: String(res.statusCode) };
      if (count) {
        metrics.requestsTotal.inc(labels);
        metrics.requestDuration.observe(labels, seconds);
      }
      logger.debug('request', { ...labels, path: req.path, duration_ms: Math.round(seconds * 1e6) / 1000 });
    });
    next();
  };
}

function metricsHandler(metrics) {
  return async (req, res) => {
    res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
  };
}

function methodNotAllowed(allow) {
  return (req, res) => {
    res.set('Allow', allow);
    throw new HttpError(405);
  };
}

// Central error handling: every error is JSON {error, message, status}; stacks only in the logs.
function errorHandler(logger) {
  // eslint-disable-next-line no-unused-vars
  return (err, req, res, next) => {
    let status = Number(err.status || err.statusCode) || 500;
    if (status < 400 || status > 599) status = 500;
    if (err instanceof InjectedFault) {
      logger.warn('injected fault', { method: req.method, path: req.path });
    } else if (status >= 500) {
      logger.error('unhandled error', { method: req.method, path: req.path, stack: err.stack });
    }
    if (res.headersSent) {
      req.socket.destroy();
      return;
    }
    let message;
    if (err.type === 'entity.parse.failed') message = 'body must be a JSON object';
    else if (status === 400 && err instanceof HttpError) message = err.message;
    sendError(res, status, message);
  };
}

function validateFaults(body) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'body must be a JSON object');
  for (const key of Object.keys(body)) {
    if (key !== 'error_ratio' && key !== 'latency_ms') throw new HttpError(400, `${key}: extra inputs are not permitted`);
  }
  const faults = { error_ratio: 0, latency_ms: 0 };
  if (body.error_ratio !== undefined) {
    const v = body.error_ratio;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new HttpError(400, 'error_ratio: must be a number from 0 to 1');
    faults.error_ratio = v;
  }
  if (body.latency_ms !== undefined) {
    const v = body.latency_ms;
    if (!Number.isInteger(v) || v < 0 || v > 60000) throw new HttpError(400, 'latency_ms: must be an integer from 0 to 60000');
    faults.latency_ms = v;
  }
  return faults;
}

function faultRoutes(app) {
  let current = { error_ratio: 0, latency_ms: 0 };
  app.get('/admin/faults', (req, res) => res.json(current));
  // Raw text, parsed here: an empty or non-JSON body is a 400 whatever its content type.
  app.post('/admin/faults', express.text({ limit: '4kb', type: () => true }), (req, res) => {
    let body;
    try {
      body = JSON.parse(typeof req.body === 'string' ? req.body : '');
    } catch {
      throw new HttpError(400, 'body must be a JSON object');
    }
    current = validateFaults(body);
    res.json(current);
  });
  app.delete('/admin/faults', (req, res) => {
    current = { error_ratio: 0, latency_ms: 0 };
    res.json(current);
  });
  app.all('/admin/faults', methodNotAllowed('GET, POST, DELETE'));
  return () => current;
}

function buildApi({ config, lifecycle, metrics, logger }) {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(contractHeaders(config, lifecycle));
  app.use(observe(metrics, logger, true));

  const identity = { app: APP_NAME, version: config.appVersion, color: config.appColor };
  const hostname = os.hostname();
  const faults = config.faultInjection === 'enabled' ? faultRoutes(app) : () => ({ error_ratio: 0, latency_ms: 0 });

  app.get('/', async (req, res) => {
    const { error_ratio: ratio, latency_ms: latency } = faults();
    if (latency) await new Promise((resolve) => setTimeout(resolve, latency));
    if (ratio > 0 && Math.random() < ratio) throw new InjectedFault('injected fault');
    res.json({ ...identity, hostname });
  });
  app.get('/healthz', (req, res) => res.json({ status: 'ok' }));
  app.get('/readyz', (req, res) => {
    if (lifecycle.draining) res.status(503).json({ status: 'draining' });
    else res.json({ status: 'ready' });
  });
  app.get('/version', (req, res) => res.json(identity));
  app.get('/metrics', metricsHandler(metrics));
  for (const path of ['/', '/healthz', '/readyz', '/version', '/metrics']) app.all(path, methodNotAllowed('GET, HEAD'));

  app.use(() => {
    throw new HttpError(404);
  });
  app.use(errorHandler(logger));
  return app;
}

// The metrics port: `/metrics` only, so a NetworkPolicy can open it to Prometheus alone.
function buildMetricsApp({ config, lifecycle, metrics, logger }) {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(contractHeaders({ ...config, maxConnectionAgeSeconds: 0 }, lifecycle));
  app.get('/metrics', metricsHandler(metrics));
  app.all('/metrics', methodNotAllowed('GET, HEAD'));
  app.use(() => {
    throw new HttpError(404);
  });
  app.use(errorHandler(logger));
  return app;
}

module.exports = { buildApi, buildMetricsApp };
