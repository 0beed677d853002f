import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../src/app/settingsSchema.js';
import type { Log } from '../../src/core/log.js';
import { LaneError } from './laneError.js';
import type { LaneSession } from './laneSession.js';
import { StateFeed } from './stateFeed.js';
import { isRequestPath, parseRequest, type RequestOf, type RequestPath } from './uiRequests.js';

/** The loopback address the page is served on: the sim lane is a developer's tool, not a service. */
export const UI_HOST = '127.0.0.1';
/** The page's default port (`--port`); 0 asks for any free one. */
export const DEFAULT_UI_PORT = 8420;
/** The most a page action's body may be: a scanned text of 4 KiB and its JSON. */
const MAX_BODY = 16 * 1024;

const here = dirname(fileURLToPath(import.meta.url));
/** The page's files live in sim/ui; the build (dist/sim/ui) finds them in the source tree. */
const PAGE_DIR = [here, join(here, '..', '..', '..', 'sim', 'ui')].find((dir) => existsSync(join(dir, 'page.html'))) ?? here;

const PAGE_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'page.html', type: 'text/html; charset=utf-8' },
  '/page.js': { file: 'page.js', type: 'text/javascript; charset=utf-8' },
  '/page.css': { file: 'page.css', type: 'text/css; charset=utf-8' },
};

/** Nothing but the page's own files and its own origin: no inline script, no other host. */
const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

export interface UiServer {
  url: string;
  /** From now on the page drives this lane; before, its API answers 503 (the lane is being built). */
  serve(session: LaneSession): void;
  close(): Promise<void>;
}

type Actions = { [P in RequestPath]: (request: RequestOf<P>) => Promise<unknown> };

function actionsOf(session: LaneSession): Actions {
  return {
    '/api/present': async (r) => ({ taps: await session.present(r.lane, r.passenger) }),
    '/api/scan': async (r) => ({ taps: await session.scan(r.lane, r.text) }),
    '/api/event': async (r) => ({ problem: (await session.happen(r.lane, r.event)) ?? null }),
    '/api/walk': async (r) => session.walkThrough(r.lane).then(() => ({})),
    '/api/auto-walk': async (r) => session.setAutoWalk(r.lane, r.on).then(() => ({})),
    '/api/load': async (r) => ({ setup: await session.load(r.scenario) }),
    '/api/play': async (r) => ({ setup: await session.play(r.scenario, r.pace) }),
    '/api/stop': async () => session.stopPlaying().then(() => ({})),
  };
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

function loadPage(): Map<string, { body: Buffer; type: string }> {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const [path, { file, type }] of Object.entries(PAGE_FILES)) {
    try {
      files.set(path, { body: readFileSync(join(PAGE_DIR, file)), type });
    } catch (error) {
      throw new InputError(`the sim page's file ${join(PAGE_DIR, file)} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  return files;
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpProblem(413, 'too-large', `a request body is at most ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The page and its API on loopback, listening at once (so that a port in
 * use is said before the lane is built), driving the lane given to `serve`:
 * GET the page, its state (`/api/state`) and live feed (`/api/events`);
 * POST one JSON action per request. Only the page's own origin is served (the Host header is
 * checked, and actions need a JSON body, which another site's page cannot
 * send without the browser asking first), so that no web page the
 * developer visits can drive the lane.
 */
export async function startUiServer(options: { port: number; log: Log }): Promise<UiServer> {
  const page = loadPage();
  let lane: { session: LaneSession; feed: StateFeed; actions: Actions } | undefined;
  let origins = new Set<string>();
  let servedPort = options.port;

  const served = () => {
    if (!lane) throw new HttpProblem(503, 'starting', 'the lane is still being built: try again in a moment');
    return lane;
  };
  const act = <P extends RequestPath>(actions: Actions, path: P, request: RequestOf<P>): Promise<unknown> => actions[path](request);

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (!origins.has(`http://${request.headers.host ?? ''}`)) throw new HttpProblem(421, 'wrong-host', `this page answers only at http://${UI_HOST}:${servedPort}/`);
    const path = new URL(request.url ?? '/', 'http://page').pathname;
    if (request.method === 'GET' || request.method === 'HEAD') {
      const file = page.get(path);
      if (file) {
        response.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': file.type, 'Content-Length': file.body.length });
        response.end(request.method === 'HEAD' ? undefined : file.body);
      } else if (path === '/api/state') {
        const { session } = served();
        reply(response, 200, { setup: session.setup(), state: session.state() });
      } else if (path === '/api/events') served().feed.add(response);
      // Browsers ask for an icon; the page has none, and a 404 would be noise in the console.
      else if (path === '/favicon.ico') response.writeHead(204, SECURITY_HEADERS).end();
      else throw new HttpProblem(404, 'not-found', `nothing at ${path}`);
      return;
    }
    if (!isRequestPath(path)) throw new HttpProblem(page.has(path) || path.startsWith('/api/') ? 405 : 404, 'not-found', `no action at ${path}`);
    if (request.method !== 'POST') throw new HttpProblem(405, 'method', `${path} takes POST`);
    const origin = request.headers.origin;
    if (origin !== undefined && !origins.has(origin)) throw new HttpProblem(403, 'wrong-origin', `actions come from this page only, not from ${origin}`);
    if (!/^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? '')) throw new HttpProblem(415, 'not-json', 'an action is a JSON body (Content-Type: application/json)');
    const parsed = parseRequest(path, await readBody(request));
    if (!parsed.ok) throw new HttpProblem(400, 'invalid-request', `${path}: ${parsed.problem}`);
    const { actions, feed } = served();
    const body = await act(actions, path, parsed.request);
    feed.check();
    reply(response, 200, body);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (error instanceof HttpProblem) reply(response, error.status, { error: error.message, reason: error.reason });
      else if (error instanceof LaneError) reply(response, 409, { error: error.message, reason: error.reason });
      else {
        options.log.error({ err: (error as Error).message }, 'sim ui: request failed');
        reply(response, 500, { error: "the lane failed to do this; see the sim's log", reason: 'internal' });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') reject(new InputError(`port ${options.port} on ${UI_HOST} is in use (another sim page?): give another with --port, or --port 0 for any free one`));
      else if (error.code === 'EACCES') reject(new InputError(`port ${options.port} on ${UI_HOST} needs privileges: give one above 1023 with --port`));
      else reject(new InputError(`cannot serve the sim page on ${UI_HOST}:${options.port}: ${error.code ?? error.message}`));
    });
    server.listen(options.port, UI_HOST, () => resolve());
  });
  servedPort = (server.address() as AddressInfo).port;
  origins = new Set([`http://${UI_HOST}:${servedPort}`, `http://localhost:${servedPort}`]);
  return {
    url: `http://${UI_HOST}:${servedPort}/`,
    serve: (session) => {
      lane = { session, feed: new StateFeed(session), actions: actionsOf(session) };
    },
    close: async () => {
      lane?.feed.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
