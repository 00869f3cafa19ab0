export { loadConfig, chooseConfigFile, CONFIG_ENV, SYSTEM_CONFIG, type AppConfig, type LoadOptions } from './load.js';
export { ConfigError, formatConfigError, type ConfigProblem } from './errors.js';
export { configSecrets, redactConfig, REDACTED } from './redact.js';
export { renderConfigReference } from './reference.js';
export { appSchema, filtersSchema, LOG_LEVELS, type DetectorConfig, type FiltersConfig, type MqttConfig } from './schema.js';
export {
  cameraSchemas,
  commonCameraSchema,
  SOURCE_TYPES,
  type CameraConfig,
  type FfmpegSourceConfig,
  type FilesSourceConfig,
  type RpicamSourceConfig,
  type SourceConfig,
  type SourceType,
} from './cameras.js';
export { detectorConfig } from './detector-config.js';
export { classifierSchema, resolveClassifiers, type ClassifierConfig } from './classifiers.js';
