import { createEdge } from './edge/create.ts';

const edge = createEdge();

export const { UserGate, RelayNonces } = edge;
export type UserGate = InstanceType<typeof UserGate>;
export type RelayNonces = InstanceType<typeof RelayNonces>;

export default edge.worker;
