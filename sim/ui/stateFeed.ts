import type { ServerResponse } from 'node:http';
import type { LaneSession } from './laneSession.js';

/** How often the feed looks for a change to send; the page's clock runs on its own in between. */
const WATCH_MS = 50;
/** A comment line now and then, so that nothing between page and lane closes an idle stream. */
const KEEPALIVE_MS = 15_000;

/**
 * The page's live updates as Server-Sent Events: `setup` (the lane's
 * buttons, when another lane is loaded) and `state` (what the gate shows,
 * the taps, the journal), each sent whole when it changed.
 */
export class StateFeed {
  private readonly clients = new Set<ServerResponse>();
  private watcher: NodeJS.Timeout | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  private lastSignature = '';
  private lastLane = 0;

  constructor(private readonly session: LaneSession) {}

  add(response: ServerResponse): void {
    response.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Content-Type-Options': 'nosniff' });
    const setup = this.session.setup();
    if (this.clients.size === 0) {
      this.lastSignature = this.session.signature();
      this.lastLane = setup.lane;
    }
    this.clients.add(response);
    response.on('close', () => {
      this.clients.delete(response);
      if (this.clients.size === 0) this.idle();
    });
    response.write(frame('setup', setup));
    response.write(frame('state', this.session.state()));
    this.watcher ??= setInterval(() => this.check(), WATCH_MS);
    this.keepalive ??= setInterval(() => this.broadcast(': keepalive\n\n'), KEEPALIVE_MS);
  }

  /** Something changed now (a page action answered): send it without waiting for the watcher. */
  check(): void {
    if (this.clients.size === 0) return;
    const signature = this.session.signature();
    if (signature === this.lastSignature) return;
    this.lastSignature = signature;
    const setup = this.session.setup();
    if (setup.lane !== this.lastLane) {
      this.lastLane = setup.lane;
      this.broadcast(frame('setup', setup));
    }
    this.broadcast(frame('state', this.session.state()));
  }

  close(): void {
    for (const client of this.clients) client.end();
    this.clients.clear();
    this.idle();
  }

  private idle(): void {
    clearInterval(this.watcher);
    clearInterval(this.keepalive);
    this.watcher = undefined;
    this.keepalive = undefined;
    this.lastSignature = '';
    this.lastLane = 0;
  }

  private broadcast(text: string): void {
    for (const client of this.clients) client.write(text);
  }
}

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
