/**
 * Whether an HTTP `Host` header names a server bound to this machine's loopback on `port`
 * (`127.0.0.1`, `localhost` or `[::1]`, with or without the port). The report/dashboard servers
 * refuse any other name: a foreign Host is a DNS-rebinding page trying to read local files.
 */
export function isLocalHost(host: string | undefined, port: number): boolean {
  if (!host) return false;
  return ['127.0.0.1', 'localhost', '[::1]'].some((h) => host === h || host === `${h}:${port}`);
}
