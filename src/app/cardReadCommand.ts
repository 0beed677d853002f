import type { CardChannel, CardReader } from '../../hal/cardReader.js';
import { PcscCardReader } from '../../hal/pcsc/pcscCardReader.js';
import { CG_AID } from '../core/credentials/apdu.js';
import { TUNION_AID } from '../core/credentials/tunion/tunionFiles.js';
import type { CardApplicationName } from '../core/credentials/cardApplication.js';
import { CardVerifier } from '../core/credentials/cardVerifier.js';
import type { Credential } from '../core/credentials/credential.js';
import type { BankCardKeys } from '../core/credentials/qpbocCard.js';
import { TrustStore } from '../core/credentials/trustList.js';
import { Refusal } from '../core/reasons.js';
import { DEFAULT_TIMEZONE, DEFAULT_TIMINGS } from '../core/settings.js';
import { loadCapkFile, loadTokenKey } from './bankCardFiles.js';
import { parseInstant } from './checkCommand.js';
import { loadConfig } from './config.js';
import { loadTrustFile } from './trustFile.js';
import { InputError } from './settingsSchema.js';

export interface CardReadOptions {
  reader?: string;
  config?: string;
  trust?: string;
  capk?: string;
  wait: string;
  at?: string;
  /** The card flow's deadline in ms (default: the config's `gate.cards.deadlineMs`). */
  deadline?: string;
}

/** What `citygate card read` prints (DESIGN.md §5): never the clear PAN. */
export interface CardReadReport {
  result: 'accepted' | 'refused';
  reason: string;
  kind: 'card' | 'emv' | 'uid' | 'tunion' | null;
  application: string | null;
  issuer: string | null;
  subject: string | null;
  pan: string | null;
  expiry: string | null;
  detail?: string;
}

/** What `card read` runs: the gate's own card flow, with these applications and keys. */
export interface CardReadSetup {
  verifier: CardVerifier;
  applications: CardApplicationName[];
  uidCards: boolean;
  gateId: string;
  skewSec: number;
  apduTimeoutMs: number;
  deadlineMs: number | undefined;
  timezone: string;
  /** Whether subjects are the fleet's tokens; without the key they are not shown. */
  tokens: boolean;
}

/** From the options: the config's gate, or CA keys and a trust list alone. Throws InputError for usage and file problems. */
export function cardReadSetup(options: CardReadOptions): CardReadSetup {
  if (options.config === undefined && options.capk === undefined && options.trust === undefined) throw new InputError('give --capk FILE (bank cards), --trust FILE (CG cards) or --config FILE');
  const config = options.config === undefined ? undefined : loadConfig(options.config);
  const gate = config?.gate;
  const trustPath = options.trust ?? config?.paths.trust;
  const capkPath = options.capk ?? config?.paths.capk;
  const tokenKeyPath = config?.paths.tokenKey;
  const bank: BankCardKeys | undefined = capkPath === undefined ? undefined : { capk: loadCapkFile(capkPath), tokenKey: tokenKeyPath === undefined ? undefined : loadTokenKey(tokenKeyPath) };
  const trust = trustPath === undefined ? TrustStore.fromDocument({ issuers: [] }) : loadTrustFile(trustPath);
  const uidCards = gate?.mode === 'access' && gate.access?.uidCards === true;
  // Without a config: every application there are keys for; never UID, which would take any card.
  const applications: CardApplicationName[] = gate?.cards ? [...gate.cards.applications] : [...(bank ? (['qpboc'] as const) : []), ...(trustPath ? (['cg'] as const) : [])];
  return {
    // Reading a T-Union card needs no PSAM: with a config that takes them, `card read` shows them.
    verifier: new CardVerifier(trust, bank, gate?.tunion),
    applications,
    uidCards,
    gateId: gate?.gateId ?? 'card-read',
    skewSec: gate?.skewSec ?? DEFAULT_TIMINGS.skewSec,
    apduTimeoutMs: gate?.apduTimeoutMs ?? DEFAULT_TIMINGS.apduTimeoutMs,
    deadlineMs: options.deadline === undefined ? gate?.cards?.deadlineMs : deadlineOf(options.deadline),
    timezone: gate?.timezone ?? DEFAULT_TIMEZONE,
    tokens: bank?.tokenKey !== undefined,
  };
}

/** `--deadline MS`: a slow reader (or a remote one) given more time than a lane would. */
function deadlineOf(text: string): number {
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 100 || ms > 60_000) throw new InputError(`--deadline ${JSON.stringify(text)} must be a whole number of milliseconds from 100 to 60000`);
  return ms;
}

/** Run the card flow on one card; nothing is journaled, nothing opens. */
export async function readOneCard(setup: CardReadSetup, channel: CardChannel, nowMs: number): Promise<CardReadReport> {
  try {
    const credential = await setup.verifier.verify(channel, {
      nowMs,
      skewSec: setup.skewSec,
      gateId: setup.gateId,
      apduTimeoutMs: setup.apduTimeoutMs,
      uidCards: setup.uidCards,
      applications: setup.applications,
      deadlineMs: setup.deadlineMs,
      amountFen: 0,
      timezone: setup.timezone,
    });
    return accepted(credential, setup.tokens);
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    const card = error.card;
    const subject = error.identity && (card?.kind !== 'emv' || setup.tokens) ? error.identity.subject : null;
    return {
      result: 'refused',
      reason: error.reason,
      kind: card?.kind ?? null,
      application: card?.application ?? null,
      issuer: error.identity?.issuer ?? null,
      subject,
      pan: card?.pan ?? null,
      expiry: card?.expiry ?? null,
      detail: error.detail,
    };
  }
}

function accepted(c: Credential, tokens: boolean): CardReadReport {
  const emv = c.emv;
  return {
    result: 'accepted',
    reason: 'ok',
    kind: c.kind === 'code' ? null : c.kind,
    application: emv?.aid ?? (c.kind === 'card' ? Buffer.from(CG_AID).toString('hex').toUpperCase() : c.tunion ? Buffer.from(TUNION_AID).toString('hex').toUpperCase() : null),
    issuer: c.issuer,
    subject: c.kind === 'emv' && !tokens ? null : c.subject,
    pan: emv?.pan ?? null,
    expiry: emv?.expiry ?? (c.tunion ? dashed(c.tunion.card.issuer.validUntil) : null),
  };
}

/** `citygate card read`: wait for a card on a PC/SC reader, read it as a gate would, print one JSON object. */
export async function cardReadCommand(options: CardReadOptions, reader: CardReader = new PcscCardReader({ include: options.reader ? new RegExp(escape(options.reader)) : undefined })): Promise<CardReadReport> {
  const waitSec = Number(options.wait);
  if (!Number.isFinite(waitSec) || waitSec <= 0 || waitSec > 3600) throw new InputError(`--wait ${JSON.stringify(options.wait)} is not a number of seconds (up to 3600)`);
  const nowMs = options.at === undefined ? Date.now() : parseInstant(options.at);
  const setup = cardReadSetup(options);
  const channel = await waitForCard(reader, waitSec * 1000, options.reader);
  try {
    return await readOneCard(setup, channel, nowMs);
  } finally {
    await channel.release();
    await reader.stop();
  }
}

async function waitForCard(reader: CardReader, waitMs: number, name: string | undefined): Promise<CardChannel> {
  let lastHealth = '';
  const channel = await new Promise<CardChannel | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), waitMs);
    void reader.start((event) => {
      if (event.type === 'health') lastHealth = event.detail;
      if (event.type !== 'card-present') return;
      clearTimeout(timer);
      resolve(event.channel);
    });
  });
  if (channel) return channel;
  await reader.stop();
  const where = name ? `reader ${JSON.stringify(name)}` : 'any reader';
  throw new InputError(`no card on ${where} within ${waitMs / 1000} s${lastHealth ? ` (${lastHealth})` : ''}`);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** YYYYMMDD as YYYY-MM-DD. */
function dashed(date: string): string {
  return `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}`;
}
