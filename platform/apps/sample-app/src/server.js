'use strict';
// Start: validate configuration, serve the http and metrics ports, drain on SIGTERM.
const http = require('node:http');
const { loadConfig, ConfigError } = require('./config');
const { createLogger } = require('./logger');
const { createMetrics } = require('./metrics');
const { buildApi, buildMetricsApp } = require('./app');

const KEEPALIVE_TIMEOUT_MS = 5000; // idle keep-alive connections are closed after this
const SHUTDOWN_TIMEOUT_MS = 5000; // after the drain delay: in-flight requests get this long, then exit

function listen(app, port, host) {
  const server = http.createServer(app);
  server.keepAliveTimeout = KEEPALIVE_TIMEOUT_MS;
  // Connection age is measured from accept, for MAX_CONNECTION_AGE_SECONDS.
  server.on('connection', (socket) => {
    socket.connectedAt = performance.now();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

async function main() {
  const bootLogger = createLogger(process.env.LOG_LEVEL === 'debug' ? 'debug' : 'info');
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    bootLogger.error(`invalid configuration: ${err.variable}: ${err.message}`, { variable: err.variable, invalid: err.variables });
    process.exitCode = 2; // no exit(): let the log line flush
    return;
  }
  const logger = createLogger(config.logLevel);
  const lifecycle = { draining: false };
  const metrics = createMetrics();
  const deps = { config, lifecycle, metrics, logger };
  metrics.appInfo.set({ version: config.appVersion, color: config.appColor }, 1);

  let servers;
  try {
    servers = await Promise.all([
      listen(buildApi(deps), config.httpPort, config.bindAddress),
      listen(buildMetricsApp(deps), config.metricsPort, config.bindAddress),
    ]);
  } catch (err) {
    logger.error(`cannot listen: ${err.message}`, { code: err.code });
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 100);
    return;
  }
  logger.info('started', {
    version: config.appVersion, color: config.appColor, http_port: config.httpPort,
    metrics_port: config.metricsPort, fault_injection: config.faultInjection,
  });

  const stop = () => {
    let open = servers.length;
    const done = () => {
      open -= 1;
      if (open === 0) {
        logger.info('stopped');
        setTimeout(() => process.exit(0), 50).unref();
      }
    };
    for (const server of servers) {
      // Stop accepting; idle keep-alive connections close now, busy ones after their response
      // (which carries Connection: close while draining).
      server.close(done);
      server.closeIdleConnections();
    }
    setTimeout(() => {
      logger.warn('shutdown timeout: closing remaining connections');
      for (const server of servers) server.closeAllConnections();
    }, SHUTDOWN_TIMEOUT_MS).unref();
  };

  const onSignal = (signal) => {
    if (lifecycle.draining) {
      logger.warn('second signal, exiting now', { signal });
      for (const server of servers) server.closeAllConnections();
      setTimeout(() => process.exit(1), 50);
      return;
    }
    lifecycle.draining = true;
    logger.info('shutdown started', { signal, drain_delay_seconds: config.drainDelaySeconds });
    setTimeout(stop, config.drainDelaySeconds * 1000);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((err) => {
  createLogger().error('fatal', { stack: err.stack });
  process.exitCode = 1;
});
