import { describe, expect, it } from 'vitest';
import { portTakenIn } from '../../worker/temporal/dev-server.ts';

describe('portTakenIn: the port a dev server could not bind, from its output', () => {
  it('finds the port of the bind failure among other lines', () => {
    const lines = [
      'time=2026-12-08T00:19:48.123 level=INFO msg="Starting server"',
      'Error: unable to start server: listen tcp 127.0.0.1:45893: bind: address already in use',
      'exit status 1',
    ];
    expect(portTakenIn(lines)).toBe(45893);
  });

  it('finds it on an IPv6 address too', () => {
    expect(portTakenIn(['listen tcp [::1]:7233: bind: address already in use'])).toBe(7233);
  });

  it('is undefined when the server failed for another reason', () => {
    expect(portTakenIn(['unable to open database file: permission denied', 'exit status 1'])).toBeUndefined();
    expect(portTakenIn([])).toBeUndefined();
  });
});
