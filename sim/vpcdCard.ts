import { connect, type Socket } from 'node:net';
import type { ApduResponder } from './virtualCard.js';

/** vpcd's one-byte control messages (vsmartcard vpcd.h). */
const CTRL_OFF = 0x00;
const CTRL_ON = 0x01;
const CTRL_RESET = 0x02;
const CTRL_ATR = 0x04;

export interface VpcdInsertion {
  /** The card leaves the field when the APDU after this many arrives, without answering it. */
  removeAfterApdus?: number;
  /** Answer each APDU this late: a slow or stuck card. */
  answerDelayMs?: number;
  /** The card carries out this APDU (1 = the first) and leaves the field before its answer goes back: a purse debited, its answer lost. */
  loseAnswerOf?: number;
}

/**
 * A virtual card in the field of a vsmartcard-vpcd reader slot. vpcd (inside
 * pcscd) listens on a TCP port per slot; the card connects to it. Frames are
 * a 2-byte big-endian length and a payload: one byte is a control message
 * (power off, power on, reset, ATR), anything longer an APDU to answer.
 * Inserting connects, removing disconnects: pcscd sees the card leave.
 */
export class VpcdCard {
  private socket: Socket | undefined;
  private card: ApduResponder | undefined;
  private insertion: VpcdInsertion = {};
  private pending = Buffer.alloc(0);
  private answered = 0;
  private removedListeners: (() => void)[] = [];

  constructor(
    readonly port: number,
    readonly host = '127.0.0.1',
  ) {}

  /** APDUs answered since the last insertion. */
  get apdus(): number {
    return this.answered;
  }

  get inserted(): boolean {
    return this.socket !== undefined;
  }

  /** Put `card` on the reader. Resolves once connected to vpcd; pcscd notices at its next poll. */
  async insert(card: ApduResponder, insertion: VpcdInsertion = {}): Promise<void> {
    if (this.socket) await this.remove();
    this.card = card;
    this.insertion = insertion;
    this.answered = 0;
    this.pending = Buffer.alloc(0);
    card.reset();
    const socket = connect({ port: this.port, host: this.host });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.removeAllListeners('error');
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    socket.on('close', () => this.onClose(socket));
    this.socket = socket;
  }

  /** Take the card off the reader (also in the middle of an exchange). */
  async remove(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.destroy();
    await closed;
  }

  /** Take the current card off and put another on. */
  async swap(card: ApduResponder, insertion: VpcdInsertion = {}): Promise<void> {
    await this.remove();
    await this.insert(card, insertion);
  }

  /** Resolves when the card next leaves the reader: removed, pulled mid-exchange, or vpcd hung up. */
  whenRemoved(): Promise<void> {
    if (!this.socket) return Promise.resolve();
    return new Promise((resolve) => this.removedListeners.push(resolve));
  }

  private onClose(socket: Socket): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    const listeners = this.removedListeners;
    this.removedListeners = [];
    for (const listener of listeners) listener();
  }

  private onData(socket: Socket, chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 2 && this.socket === socket) {
      const length = this.pending.readUInt16BE(0);
      if (this.pending.length < 2 + length) return;
      const payload = this.pending.subarray(2, 2 + length);
      this.pending = this.pending.subarray(2 + length);
      if (length === 1) this.control(socket, payload[0]!);
      else this.apdu(socket, Uint8Array.from(payload));
    }
  }

  private control(socket: Socket, message: number): void {
    const card = this.card!;
    if (message === CTRL_ON || message === CTRL_RESET || message === CTRL_OFF) card.reset();
    else if (message === CTRL_ATR) send(socket, card.atr);
  }

  private apdu(socket: Socket, apdu: Uint8Array): void {
    const limit = this.insertion.removeAfterApdus;
    if (limit !== undefined && this.answered >= limit) {
      socket.destroy();
      return;
    }
    this.answered++;
    const response = this.card!.respond(apdu);
    if (this.answered === this.insertion.loseAnswerOf) {
      socket.destroy();
      return;
    }
    const delay = this.insertion.answerDelayMs;
    if (delay === undefined) send(socket, response);
    else setTimeout(() => send(socket, response), delay);
  }
}

function send(socket: Socket, payload: Uint8Array): void {
  if (socket.destroyed) return;
  const frame = Buffer.alloc(2 + payload.length);
  frame.writeUInt16BE(payload.length, 0);
  frame.set(payload, 2);
  socket.write(frame);
}
