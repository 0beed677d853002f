import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Registry } from 'prom-client';
import { InputError } from '../../../src/app/settingsSchema.js';
import type { FleetView } from './fleetView.js';

/** The dashboard's default address: loopback only (docs/fleet-tools.md). */
export const DEFAULT_HTTP = { host: '127.0.0.1', port: 9480 };
/** At most one update a client this often, however fast statuses arrive. */
const PUSH_INTERVAL_MS = 300;
const KEEPALIVE_MS = 15_000;

const here = dirname(fileURLToPath(import.meta.url));
// Built code runs from dist/; the page's files stay beside the sources.
const PAGE_DIR = [join(here, 'dashboard'), join(here, '..', '..', '..', '..', 'provisioning', 'fleet', 'serve', 'dashboard')].find((dir) => existsSync(join(dir, 'index.html'))) ?? join(here, 'dashboard');
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
};

/** `--http HOST:PORT` as a checked address. */
export function parseHttpAddress(text: string): { host: string; port: number } {
  const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65_535) throw new InputError(`--http ${JSON.stringify(text)}: expected HOST:PORT, e.g. ${DEFAULT_HTTP.host}:${DEFAULT_HTTP.port}`);
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

/**
 * The dashboard, its live feed and the metrics over HTTP: `/` (the page),
 * `/events` (Server-Sent Events, one `fleet` event with the whole view on
 * every change, at most every 300 ms), `/api/fleet` (the view as JSON) and
 * `/metrics` (Prometheus). Read-only: nothing here changes the fleet.
 */
export class DashboardServer {
  private server: Server | undefined;
  private readonly clients = new Set<ServerResponse>();
  private pushTimer: NodeJS.Timeout | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  private lastPush = 0;
  private boundPort = 0;

  constructor(
    private readonly view: () => FleetView,
    private readonly metrics: Registry,
  ) {}

  listen(host: string, port: number): Promise<void> {
    const server = createServer((request, response) => this.handle(host, request, response));
    this.server = server;
    this.keepalive = setInterval(() => {
      for (const client of this.clients) client.write(': keepalive\n\n');
    }, KEEPALIVE_MS);
    return new Promise((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        const why = error.code === 'EADDRINUSE' ? 'is in use' : `cannot be listened on (${error.code ?? error.message})`;
        reject(new InputError(`--http ${host}:${port} ${why}: give another --http HOST:PORT`));
      });
      server.listen(port, host, () => {
        const address = server.address();
        this.boundPort = typeof address === 'object' && address ? address.port : port;
        resolve();
      });
    });
  }

  port(): number {
    return this.boundPort;
  }

  /** The fleet changed: every open page gets the new view (coalesced). */
  changed(): void {
    if (this.clients.size === 0 || this.pushTimer) return;
    const delay = Math.max(0, this.lastPush + PUSH_INTERVAL_MS - Date.now());
    this.pushTimer = setTimeout(() => {
      this.pushTimer = undefined;
      this.lastPush = Date.now();
      const event = `event: fleet\ndata: ${JSON.stringify(this.view())}\n\n`;
      for (const client of this.clients) client.write(event);
    }, delay);
  }

  async close(): Promise<void> {
    clearTimeout(this.pushTimer);
    clearInterval(this.keepalive);
    for (const client of this.clients) client.end();
    this.clients.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(host: string, request: IncomingMessage, response: ServerResponse): void {
    const path = (request.url ?? '/').split('?')[0]!;
    if (!this.hostAllowed(host, request.headers.host)) {
      response.writeHead(421, { 'content-type': 'text/plain' }).end('this server answers to its own address only\n');
      return;
    }
    if (request.method !== 'GET') {
      response.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    const file = FILES[path];
    if (file) {
      response.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:" }).end(readFileSync(join(PAGE_DIR, file.file)));
      return;
    }
    if (path === '/events') return this.subscribe(response);
    if (path === '/api/fleet') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.view()));
      return;
    }
    if (path === '/metrics') {
      this.metrics.metrics().then(
        (text) => response.writeHead(200, { 'content-type': this.metrics.contentType }).end(text),
        (error: unknown) => response.writeHead(500).end(`${(error as Error).message}\n`),
      );
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /, /events, /api/fleet or /metrics\n');
  }

  private subscribe(response: ServerResponse): void {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    response.write(`retry: 2000\nevent: fleet\ndata: ${JSON.stringify(this.view())}\n\n`);
    this.clients.add(response);
    response.on('close', () => this.clients.delete(response));
  }

  /** On loopback, only this server's own names: a page elsewhere cannot reach it through a DNS name pointed at 127.0.0.1. Bound elsewhere, it is on the network by choice. */
  private hostAllowed(host: string, header: string | undefined): boolean {
    if (!/^(127\.|::1$|localhost$)/.test(host)) return true;
    if (header === undefined) return false;
    const port = this.boundPort;
    const names = new Set([`${host}:${port}`, `[${host}]:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]);
    return names.has(header.toLowerCase());
  }
}
