'use strict';
// Configuration from the environment, validated once at start (same rules as sample2-app).

class ConfigError extends Error {
  constructor(variable, message, variables) {
    super(message);
    this.variable = variable;
    this.variables = variables;
  }
}

const VERSION_RE = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/;
const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function oneOf(choices) {
  return (raw) => {
    if (!choices.includes(raw)) throw new Error(`must be one of ${choices.join(', ')}`);
    return raw;
  };
}

function port(raw) {
  if (!/^\d+$/.test(raw)) throw new Error('must be an integer port');
  const value = Number(raw);
  if (value < 1 || value > 65535) throw new Error('must be between 1 and 65535');
  return value;
}

function seconds(min, max, exclusiveMin) {
  return (raw) => {
    if (!NUMBER_RE.test(raw.trim())) throw new Error('must be a number of seconds');
    const value = Number(raw);
    if (exclusiveMin ? value <= min : value < min) throw new Error(`must be ${exclusiveMin ? '>' : '>='} ${min}`);
    if (value > max) throw new Error(`must be <= ${max}`);
    return value;
  };
}

// In order: the first invalid variable is the one the log line names.
const SPEC = [
  ['appVersion', 'APP_VERSION', undefined, (raw) => {
    if (!VERSION_RE.test(raw)) throw new Error('must be a version such as 1.0.0');
    return raw;
  }],
  ['appColor', 'APP_COLOR', undefined, oneOf(['blue', 'green'])],
  ['httpPort', 'HTTP_PORT', '8080', port],
  ['metricsPort', 'METRICS_PORT', '9100', port],
  ['drainDelaySeconds', 'DRAIN_DELAY_SECONDS', '5', seconds(0, 300, false)],
  ['maxConnectionAgeSeconds', 'MAX_CONNECTION_AGE_SECONDS', '10', seconds(0, 3600, true)],
  ['faultInjection', 'FAULT_INJECTION', 'disabled', oneOf(['enabled', 'disabled'])],
  ['logLevel', 'LOG_LEVEL', 'info', oneOf(['debug', 'info', 'warn', 'warning', 'error'])],
];

function loadConfig(env = process.env) {
  const config = { bindAddress: env.BIND_ADDRESS || '0.0.0.0' };
  const errors = [];
  for (const [key, name, fallback, parse] of SPEC) {
    const raw = env[name] === undefined ? fallback : env[name];
    if (raw === undefined) {
      errors.push([name, 'missing']);
      continue;
    }
    try {
      config[key] = parse(raw);
    } catch (err) {
      errors.push([name, err.message]);
    }
  }
  if (!errors.length && config.metricsPort === config.httpPort) errors.push(['METRICS_PORT', 'must differ from HTTP_PORT']);
  if (errors.length) throw new ConfigError(errors[0][0], errors[0][1], errors.map((e) => e[0]));
  return config;
}

module.exports = { loadConfig, ConfigError };
