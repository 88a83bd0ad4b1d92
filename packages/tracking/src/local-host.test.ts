import { isLocalHost } from './local-host.js';

describe('isLocalHost (the report/dashboard servers’ DNS-rebinding guard)', () => {
  it('accepts the loopback names, with this port or none', () => {
    for (const h of ['127.0.0.1', 'localhost', '[::1]'])
      for (const host of [h, `${h}:8080`]) expect(isLocalHost(host, 8080)).toBe(true);
  });
  it('refuses other names, other ports, and a missing header', () => {
    for (const host of [
      'evil.example',
      'evil.example:8080',
      'localhost:8081',
      '127.0.0.1.evil.example',
      '',
    ])
      expect(isLocalHost(host, 8080)).toBe(false);
    expect(isLocalHost(undefined, 8080)).toBe(false);
  });
});
