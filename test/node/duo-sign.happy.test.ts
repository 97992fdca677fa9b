import { describe, expect, it } from 'vitest';
import { canonicalV2, canonicalV5, canonParams, canonXDuoHeaders } from '../../src/duo/canonical.ts';
import { hmacHex, rfc2822Date, sha512Hex, signV5 } from '../../src/duo/sign.ts';
import { signV2 } from '../support/duo-emulator/sign-v2.ts';

// Golden vectors from Duo's official clients (duo_client_python, duo_api_nodejs); inputs copied from their
// test files, so this signer agrees with what Duo's servers accept.

const basic = (ikey: string, hex: string) => `Basic ${Buffer.from(`${ikey}:${hex}`).toString('base64')}`;

describe('duo_api_nodejs tests/duo_sig.js', () => {
  const creds = { ikey: 'test_ikey', skey: 'test_skey' };
  const base = {
    date: 'Tue, 21 Aug 2012 17:29:18 -0000',
    method: 'POST',
    host: 'test.duosecurity.com',
    path: '/test/v1',
  };

  it('v2 (HMAC-SHA512) over form parameters', async () => {
    expect(await signV2(creds, { ...base, params: { realname: 'First Last', username: 'root' } })).toBe(
      'Basic dGVzdF9pa2V5OjA0MmEzMGM2ODJiZDgzNmZjNWJhNDY3ODkxYTk1NmVhYTEwMDkxY2EwZjczYTdmYjM5NmFlZmQ1NmEzNTI5ZTU2OTMyZGVhNDI3YTY3MjEzYWY2NjRiYTY4NDE2ODlmZjIzMzZiN2EzNzM3NjZlYTVhYjdhYjlmZTI2MzgyMjZi',
    );
  });

  it('v5 over a JSON body with no x-duo headers', async () => {
    const body = '{"realname":"First Last","username":"root"}';
    expect(await signV5(creds, { ...base, params: {}, body, headers: {} })).toBe(
      'Basic dGVzdF9pa2V5OjdkMDI0MDlhMTUyNzY0ODQzY2NjZDgyODRkYTE1M2IzZmI0NDZiYWFkNWY5OTg4ODYzMjVlMjRiYzljZDRhMjQ0ZGU4NWFkNGJmYTdlYTI4NWQ2ODIwOWYxNjA4MzU2NzNkOGI0ZjFlMWIyM2Q5Y2Q1MjFkMjZiZmU3ZjM2NmE0',
    );
  });
});

describe('duo_hmac_python test/test_hmac.py (v5, date sent and hashed as x-duo-date)', () => {
  const creds = { ikey: 'DIABCDEFGHIJKLMNOPQR', skey: 'testtesttesttesttesttesttesttesttesttest' };
  const date = 'Fri, 24 May 2024 12:00:00 -0000';
  const base = { date, host: 'api-xxxxxxxx.duosecurity.com', path: '/api/path' };
  const extra = { 'x-duo-foo': 'bar', 'x-duo-bar': 'foo', 'non-duo-bar': 'duo' };
  const multi = { foo: 'bar', one: '1', bool: 'true' };
  const multiBody = '{"bool":"true","foo":"bar","one":"1"}';
  const cases = [
    [
      'GET, no params',
      'GET',
      {},
      '',
      {},
      'YzQ1NDYzOWQ3NWI0ZTNkOTliOGIxZDVlNDFjZDdiYjJkMmQ4YmE1NWY2ODExZjc4NmRmYjBlZGQ0ZmFjZDJmM2E1ZTZkNmM4MzdmMzFmNjgyNjcwNjMyNWI0ZWQ3ZGNkYzVmMTExNjQ5NDhlNTdhNzAzMmE1MjQ5OTBlMDE1ODM=',
    ],
    [
      'POST, no params',
      'POST',
      {},
      '{}',
      {},
      'MTJhMDVkNzgzYjJlNThlMzZmMzdkZjhhNjkwNzgzNTQ5NmZiZTIwZmIzZDA0YjE1MDM2YzgyYjE2OTRmYzU4ZDFjMDQ1MWI5MzdmYjliYTZlN2MyYjQ0ZDg5YjQ3M2FmNzA4MTY2MTgzZDIxNmFlYTEzZTUyNzQyYTU3ZjIzOWY=',
    ],
    [
      'GET, one param',
      'GET',
      { foo: 'bar' },
      '',
      {},
      'ODhmZTgwZjNiMjQyYjk5MmY0YjMwMTQwOGQ1MjRhODg2Mjc0ZDNlZDBjNGM3YmQxODRlMWI0ZmYzNzhlNjhlYTA1ZDk0MzNjMDk5MzgwNzhjNDk1MTdhNmM0MjY0Yzk1MGJlOWZmNWNjMjhhZDJkNDQ4Y2VhMjRiYzkzODg3Y2E=',
    ],
    [
      'POST, one param',
      'POST',
      {},
      '{"foo":"bar"}',
      {},
      'NjQzNzcwYWYzMTAwNmM1ODRhNzU4ZDkyNjI1MGU0NmE5MGQ3OTEwMGQyMWY3YTAzMTNjM2U3N2Q2NGZhM2M1ZDJjOTRlMmM5MDgxYTJiNjUzNDNjYzNkNWYyZWQyMWY3MzAwZWE1MGIwMDY0MGNiMTc2MGYzMjMxOTIzMDdkMzc=',
    ],
    [
      'GET, params and x-duo headers',
      'GET',
      multi,
      '',
      extra,
      'ZDQ2NTU2NzI2ODAwNDE1ZGM3OGNlZmMzZmI0ZTExZGNmM2VlMTM0MjkwNGYyNzZlZDVjOGUzNDI3ODc4YmQ1Mzc2ZWE2YzU1NTFiOTBiZjcwN2ZhYjUzZjZmMWQyMGExMTQ4OTg4OTg3MDVkMjgyNjg4MjRlZGQwYmU1ZjFkNTM=',
    ],
    [
      'POST, params and x-duo headers',
      'POST',
      {},
      multiBody,
      extra,
      'ZGVmN2I3MzU5YjAzOTk1NDNiNjFkM2QxYTQyNTJjMTkwOGViNDg2MDM5MTY4YWE3ZDFjOTM1NDVmMDUyZTEyMTA2MmU0ZDBkM2NhZTgwZjBmMTI1ZGM0OTdjNDNjNTNiNjJjOWRiNThjYWNkMjEzOTRhM2IxN2FkOTcyZTM3OTM=',
    ],
    [
      'POST, params, no headers',
      'POST',
      {},
      multiBody,
      {},
      'NjhjYWI2YTQyYmUyMTZhMGUwNTU3NzJlZDhkODg3MGIzODNmYzk4NmVlNGJkN2I5MjM0Njg5ZTIzOWJlNjc3YzhlZGY2MWUzM2VhZGRkODNlMmI5NDE0Yzk4ZmYzMGJmY2EwYmYyZTFmNDQ4MzEwNzRmNWM0NzRiZjRhZjlmZDc=',
    ],
  ] as const;

  it.each(cases)('%s', async (_name, method, params, body, headers, b64) => {
    const auth = await signV5(creds, { ...base, method, params, body, headers: { ...headers, 'x-duo-date': date } });
    expect(auth).toBe(`Basic RElBQkNERUZHSElKS0xNTk9QUVI6${b64}`);
  });
});

describe('duo_client_python tests/test_client.py', () => {
  // The unicode fixture of TestCanonicalize.test_v2 and TestSign.
  const params = {
    '\u469a\u287b\u35d0\u8ef3\u6727\u502a\u0810\ud091\u00c8\uc170': [
      '\u0f45\u1a76\u341a\u654c\uc23f\u9b09\uabe2\u8343\u1b27\u60d0',
    ],
    '\u7449\u7e4b\uccfb\u59ff\ufe5f\u83b7\uadcc\u900c\ucfd1\u7813': [
      '\u8db7\u5022\u92d3\u42ef\u207d\u8730\uacfe\u5617\u0946\u4e30',
    ],
    '\u7470\u9314\u901c\u9eae\u40d8\u4201\u82d8\u8c70\u1d31\ua042': [
      '\u17d9\u0ba8\u9358\uaadf\ua42a\u48be\ufb96\u6fe9\ub7ff\u32f3',
    ],
    '\uc2c5\u2c1d\u2620\u3617\u96b3F\u8605\u20e8\uac21\u5934': [
      '\ufba9\u41aa\ubd83\u840b\u2615\u3e6e\u652d\ua8b5\ud56bU',
    ],
  };
  const request = {
    date: 'Fri, 07 Dec 2012 17:18:00 -0000',
    method: 'PoSt',
    host: 'foO.BAr52.cOm',
    path: '/Foo/BaR2/qux',
    params,
  };
  const skey = 'gtdfxv9YgVBYcF6dl2Eq17KUQJN2PLM2ODVTkvoT';
  const canonicalParams =
    '%E4%9A%9A%E2%A1%BB%E3%97%90%E8%BB%B3%E6%9C%A7%E5%80%AA%E0%A0%90%ED%82%91%C3%88%EC%85%B0=%E0%BD%85%E1%A9%B6%E3%90%9A%E6%95%8C%EC%88%BF%E9%AC%89%EA%AF%A2%E8%8D%83%E1%AC%A7%E6%83%90&%E7%91%89%E7%B9%8B%EC%B3%BB%E5%A7%BF%EF%B9%9F%E8%8E%B7%EA%B7%8C%E9%80%8C%EC%BF%91%E7%A0%93=%E8%B6%B7%E5%80%A2%E9%8B%93%E4%8B%AF%E2%81%BD%E8%9C%B0%EA%B3%BE%E5%98%97%E0%A5%86%E4%B8%B0&%E7%91%B0%E9%8C%94%E9%80%9C%E9%BA%AE%E4%83%98%E4%88%81%E8%8B%98%E8%B1%B0%E1%B4%B1%EA%81%82=%E1%9F%99%E0%AE%A8%E9%8D%98%EA%AB%9F%EA%90%AA%E4%A2%BE%EF%AE%96%E6%BF%A9%EB%9F%BF%E3%8B%B3&%EC%8B%85%E2%B0%9D%E2%98%A0%E3%98%97%E9%9A%B3F%E8%98%85%E2%83%A8%EA%B0%A1%E5%A4%B4=%EF%AE%A9%E4%86%AA%EB%B6%83%E8%90%8B%E2%98%95%E3%B9%AE%E6%94%AD%EA%A2%B5%ED%95%ABU';

  it('canonicalizes v2: method upper, host lower, path as is, unicode params', () => {
    expect(canonicalV2(request)).toBe(
      `Fri, 07 Dec 2012 17:18:00 -0000\nPOST\nfoo.bar52.com\n/Foo/BaR2/qux\n${canonicalParams}`,
    );
  });

  it('signs v2 with HMAC-SHA1 (test_hmac_sha1)', async () => {
    expect(await signV2({ ikey: 'test_ikey', skey }, request, 'SHA-1')).toBe(
      basic('test_ikey', 'f01811cbbf9561623ab45b893096267fd46a5178'),
    );
  });

  it('signs v2 with HMAC-SHA512 (test_hmac_sha512)', async () => {
    const hex =
      '0508065035a03b2a1de2f453e629e791d180329e157f65df6b3e0f08299d4321e1c5c7a7c7ee6b9e5fc80d1fb6fbf3ad5eb7c44dd3b3985a02c37aca53ec3698';
    expect(await signV2({ ikey: 'test_ikey', skey }, request)).toBe(basic('test_ikey', hex));
  });

  it('canonicalizes v5: empty params line, body hash, x-duo header hash (test_v5_with_json)', async () => {
    const body = '{"alpha":["a","b","c","d"],"data":"abc123","info":{"another":2,"test":1}}';
    const bodySha512 = await sha512Hex(body);
    const headersSha512 = await sha512Hex(canonXDuoHeaders({ 'X-Duo-Header-1': 'header_value_1' }));
    const v5 = {
      date: 'Tue, 17 Nov 2020 14:12:00',
      method: 'POST',
      host: 'foO.BaR52.cOm',
      path: '/Foo/BaR2/qux',
      params: {},
    };
    expect(canonicalV5({ ...v5, bodySha512, headersSha512 })).toBe(
      `Tue, 17 Nov 2020 14:12:00\nPOST\nfoo.bar52.com\n/Foo/BaR2/qux\n\n${bodySha512}\n` +
        '630b4bfe7e9abd03da2eee8f0a5d4e60a254ec880a839bcc2223bb5b9443e8ef24d58f0254f1f5934bf8c017ebd0fd5b1acf86766bdbe74185e712a4092df3ed',
    );
  });

  it('lowercases, then sorts x-duo headers (test_signature_v5_lowers_and_then_sorts_headers)', async () => {
    expect(await sha512Hex(canonXDuoHeaders({ 'x-duo-A': 'header_value_1', 'X-Duo-B': 'header_value_2' }))).toBe(
      '60be11a30e0756f2ee2afdce1db849b987dcf86c1133394bd7bbbc9877920330c4d78aceacbb377ab8cbd9a8efe6a410fed4047376635ac71226ab46ca10d2b1',
    );
  });

  it.each([
    [{}, ''],
    [{ realname: ['First Last'] }, 'realname=First%20Last'],
    [{ realname: 'First Last', username: ['root'] }, 'realname=First%20Last&username=root'],
    [{ words: 'First Last', success: 'true', digit: '5' }, 'digit=5&success=true&words=First%20Last'],
    [{ foo_bar: '2', foo: '1' }, 'foo=1&foo_bar=2'],
    [
      {
        digits: '0123456789',
        letters: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ',
        punctuation: '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
        whitespace: '\t\n\x0b\x0c\r ',
      },
      'digits=0123456789&letters=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ&punctuation=%21%22%23%24%25%26%27%28%29%2A%2B%2C-.%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E_%60%7B%7C%7D~&whitespace=%09%0A%0B%0C%0D%20',
    ],
    [
      {
        bar: '\u2815\uaaa3\u37cf\u4bb7\u36e9\ucc05\u668e\u8162\uc2bd\ua1f1',
        baz: '\u0df3\u84bd\u5669\u9985\ub8a4\uac3a\u7be7\u6f69\u934a\ub91c',
        foo: '\ud4ce\ud6d6\u7938\u50c0\u8a20\u8f15\ufd0b\u8024\u5cb3\uc655',
        qux: '\u8b97\uc846-\u828e\u831a\uccca\ua2d4\u8c3e\ub8b2\u99be',
      },
      'bar=%E2%A0%95%EA%AA%A3%E3%9F%8F%E4%AE%B7%E3%9B%A9%EC%B0%85%E6%9A%8E%E8%85%A2%EC%8A%BD%EA%87%B1&baz=%E0%B7%B3%E8%92%BD%E5%99%A9%E9%A6%85%EB%A2%A4%EA%B0%BA%E7%AF%A7%E6%BD%A9%E9%8D%8A%EB%A4%9C&foo=%ED%93%8E%ED%9B%96%E7%A4%B8%E5%83%80%E8%A8%A0%E8%BC%95%EF%B4%8B%E8%80%A4%E5%B2%B3%EC%99%95&qux=%E8%AE%97%EC%A1%86-%E8%8A%8E%E8%8C%9A%EC%B3%8A%EA%8B%94%E8%B0%BE%EB%A2%B2%E9%A6%BE',
    ],
  ])('canonicalizes params %j (TestQueryParameters)', (input, expected) => {
    expect(canonParams(input)).toBe(expected);
  });
});

describe('local conventions', () => {
  it('sorts multi-values by encoded form and keeps duplicates', () => {
    expect(canonParams({ k: ['b', 'a b', 'a', 'a'] })).toBe('k=a&k=a&k=a%20b&k=b');
  });

  it('formats the date as RFC 2822 with -0000', () => {
    expect(rfc2822Date(Date.UTC(2012, 7, 21, 17, 29, 18))).toBe('Tue, 21 Aug 2012 17:29:18 -0000');
  });

  it('hex-encodes HMACs in lowercase', async () => {
    expect(await hmacHex('SHA-1', 'key', 'The quick brown fox jumps over the lazy dog')).toBe(
      'de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9',
    );
  });
});
