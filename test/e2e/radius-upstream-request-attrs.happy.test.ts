import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRadiusUpstreamPrimary } from '../../local-relay/src/primary/radius-upstream.ts';
import { Attr, textAttribute } from '../../local-relay/src/radius/index.ts';
import { vendorSpecific } from '../../local-relay/src/radius/vsa.ts';
import { type FreeRadiusHandle, startFreeRadius } from '../support/freeradius.ts';
import { captureLogger, nasRequest, upstreamConfig } from '../support/radius-upstream-fixtures.ts';

/**
 * pass_through_attr_names works both ways, as in Duo's proxy: the NAS request's named attributes
 * reach the upstream RADIUS server, whose policy (here FreeRADIUS check items) can match on them.
 */

const SECRET = 'upstream-secret-0a1b2c3d4e5f6789';
const CISCO = 9;
let radius: FreeRadiusHandle;
const { logger } = captureLogger();

beforeAll(async () => {
  radius = await startFreeRadius({
    clients: [{ ip: '127.0.0.1', secret: SECRET }],
    users: [
      {
        name: 'gold',
        password: 'gold-pass',
        checkAttrs: { 'Cisco-AVPair': '"tunnel-group=gold"', Class: '0x76706e' },
      },
    ],
  });
});
afterAll(async () => {
  await radius?.stop();
});

function login(passThrough: string[]) {
  const primary = createRadiusUpstreamPrimary(
    upstreamConfig({ hosts: [`127.0.0.1:${radius.port}`], secret: SECRET, pass_through_attr_names: passThrough }),
    { logger },
  );
  const avpair = vendorSpecific(CISCO, 1, new TextEncoder().encode('tunnel-group=gold'));
  if (!avpair.ok) throw new Error('cannot build Cisco-AVPair');
  const { raw } = nasRequest({
    username: 'gold',
    password: 'gold-pass',
    attributes: [avpair.value, textAttribute(Attr.Class, 'vpn')],
  });
  return primary
    .authenticate({ username: 'gold', password: 'gold-pass', clientIp: '127.0.0.1', raw })
    .finally(() => primary.close?.());
}

describe('request attributes named in pass_through_attr_names reach the upstream', () => {
  it('named Class and Cisco-AVPair: the upstream policy sees them and accepts', async () => {
    expect(await login(['Class', 'Cisco-AVPair'])).toMatchObject({ kind: 'accept' });
  });

  it('not named: the upstream never sees them and rejects', async () => {
    expect(await login(['Class'])).toMatchObject({ kind: 'reject' });
    expect(await login([])).toMatchObject({ kind: 'reject' });
  });
});
