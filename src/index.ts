/**
 * taskwire: the server and the engine, for embedding in a Node process of your own.
 * (Workers and other clients import `taskwire/worker`, which loads none of this.)
 */
export * from './store/index.js';
export { EventBus } from './events/bus.js';
export { buildApp, type App, type AppOptions } from './app.js';
export { ConfigError, loadConfig, type ServerConfig } from './config.js';
