import { exports } from 'cloudflare:workers';
import { expect, it } from 'vitest';

it('answers health without authentication', async () => {
  const res = await exports.default.fetch('https://edge.test/v1/health');
  expect(res.status).toBe(200);
});
