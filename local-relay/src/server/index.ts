export { createRadiusServer } from './server.ts';
export type {
  BoundAddress,
  DecisionEvent,
  ListenerSpec,
  RadiusClientEntry,
  RadiusRawRequest,
  RadiusServer,
  RadiusServerOptions,
} from './types.ts';
