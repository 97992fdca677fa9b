import { numberedDevice, parseNumberedFactor } from '@duo-edge/contract/factors';
import type { Device } from '@duo-edge/contract/wire';
import { describe, expect, it } from 'vitest';
import { parseFactorToken } from '../../local-relay/src/flow/factor-token.ts';

/**
 * Golden cases for Duo's factor numbering: N counts the user's phones in preauth order, and the
 * Nth phone must be able to do the factor. The relay (parseFactorToken) and the edge (which resolves
 * tokens the relay passes on) both use numberedDevice, so a token names the same device on both.
 */

const SMARTPHONE: Device = { device: 'DPSMART', type: 'phone', capabilities: ['auto', 'push', 'phone', 'sms'] };
const LANDLINE: Device = { device: 'DPLAND', type: 'phone', capabilities: ['phone'] };
const TOKEN: Device = { device: 'DTOKEN', type: 'token', capabilities: [] };

/** The option map Duo returns for a smartphone and a landline (duo_unix's mock of text_prompt). */
const DUO_PROMPT_FACTORS = { default: 'push1', '1': 'push1', '2': 'voice1', '3': 'smsrefresh1', '4': 'voice2' };

const resolve = (devices: Device[], token: string) => {
  const numbered = parseNumberedFactor(token);
  return numbered && { kind: numbered.kind, device: numberedDevice(devices, numbered.kind, numbered.n)?.device };
};

describe("Duo's factor numbering", () => {
  it('resolves every option of a Duo prompt map to the phone it was numbered for', () => {
    const devices = [SMARTPHONE, LANDLINE];
    const expected: Record<string, { kind: string; device: string }> = {
      push1: { kind: 'push', device: 'DPSMART' },
      voice1: { kind: 'phone', device: 'DPSMART' },
      smsrefresh1: { kind: 'sms', device: 'DPSMART' },
      voice2: { kind: 'phone', device: 'DPLAND' },
    };
    for (const token of Object.values(DUO_PROMPT_FACTORS)) {
      expect(resolve(devices, token), token).toEqual(expected[token]);
    }
  });

  it('counts phones, not capable devices: a landline first makes the smartphone push2', () => {
    const devices = [LANDLINE, TOKEN, SMARTPHONE];
    expect(resolve(devices, 'phone1')).toEqual({ kind: 'phone', device: 'DPLAND' });
    expect(resolve(devices, 'push1')).toEqual({ kind: 'push', device: undefined });
    expect(resolve(devices, 'sms1')).toEqual({ kind: 'sms', device: undefined });
    expect(resolve(devices, 'push2')).toEqual({ kind: 'push', device: 'DPSMART' });
    expect(resolve(devices, 'PHONE2')).toEqual({ kind: 'phone', device: 'DPSMART' });
    expect(resolve(devices, 'sms2')).toEqual({ kind: 'sms', device: 'DPSMART' });
    expect(resolve(devices, 'push3')).toEqual({ kind: 'push', device: undefined });
  });

  it('the relay resolves what it can and passes the rest on as typed', () => {
    const devices = [LANDLINE, TOKEN, SMARTPHONE];
    expect(parseFactorToken('push2', devices)).toEqual({ factor: 'push', device: 'DPSMART' });
    expect(parseFactorToken('voice1', devices)).toEqual({ factor: 'phone', device: 'DPLAND' });
    expect(parseFactorToken('Push1', devices)).toEqual({ factor: 'push', device: 'push1' });
    expect(parseFactorToken('push', devices)).toEqual({ factor: 'push', device: 'auto' });
    expect(parseFactorToken('push0', devices)).toEqual({ factor: 'push', device: 'auto' });
  });

  it('is not a numbered factor without a number from 1, or with another word', () => {
    for (const token of ['push', 'push0', 'auto1', 'passcode1', 'push-1', 'push1a', 'pushy1', '123456']) {
      expect(parseNumberedFactor(token), token).toBeUndefined();
    }
    expect(parseNumberedFactor('push01')).toEqual({ kind: 'push', n: 1 });
  });
});
