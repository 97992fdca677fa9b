export { createRadiusServer } from './server.ts';
export type {
  BoundAddress,
  ListenerSpec,
  RadiusClientEntry,
  RadiusRawRequest,
  RadiusServer,
  RadiusServerOptions,
} from './types.ts';
