export { HttpServer, type HealthSource, type HttpServerOptions } from './server.js';
export { MetricsRecorder, METRIC_PREFIX } from './metrics.js';
