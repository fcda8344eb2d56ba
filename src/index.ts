export * from './store/index.js';
export { EventBus } from './events/bus.js';
