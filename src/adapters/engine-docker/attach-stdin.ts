/**
 * An attach that also writes stdin. dockerode's attach with `stdin` sends its options as a
 * request body, which Podman hands to the container as the first bytes of its stdin; this one
 * upgrades an empty-bodied request (Content-Length: 0), writes the data to the hijacked socket
 * and half-closes it, so the container (created with OpenStdin + StdinOnce) reads EOF after it.
 */
import type Docker from 'dockerode';
import type { Duplex } from 'node:stream';

interface Dialer {
  dial(options: Record<string, unknown>, cb: (err: unknown, stream: unknown) => void): void;
}

export function attachWithStdin(docker: Docker, id: string, stdin: string | Buffer, signal: AbortSignal | undefined): Promise<Duplex> {
  const modem = docker.modem as unknown as Dialer;
  return new Promise<Duplex>((resolve, reject) => {
    modem.dial(
      {
        path: `/containers/${id}/attach?`,
        method: 'POST',
        options: { stream: true, stdin: true, stdout: true, stderr: true },
        // An empty file body: Content-Length 0 and the request ended, so nothing precedes the data.
        file: Buffer.alloc(0),
        isStream: true,
        hijack: true,
        openStdin: false,
        ...(signal ? { abortSignal: signal } : {}),
        statusCodes: { 101: true, 200: true, 400: 'bad parameter', 404: 'no such container', 409: 'container paused', 500: 'server error' },
      },
      (err, stream) => {
        if (err) return reject(err);
        const socket = stream as Duplex;
        socket.end(stdin);
        resolve(socket);
      },
    );
  });
}
