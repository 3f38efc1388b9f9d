'use strict';
// Structured logs: one JSON object per line on stdout.
const winston = require('winston');

const APP_NAME = 'sample-app';

const stamp = winston.format((info) => {
  info.time = new Date().toISOString();
  return info;
});

function createLogger(level = 'info') {
  return winston.createLogger({
    level: level === 'warning' ? 'warn' : level,
    defaultMeta: { app: APP_NAME },
    format: winston.format.combine(stamp(), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}

module.exports = { createLogger, APP_NAME };
