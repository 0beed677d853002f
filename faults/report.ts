/*
 * `npm run faults`: the long versions of the fault harnesses of issue 7, one
 * after the other, and a summary (docs/faults.md). Prints the human summary
 * on stderr as each part ends and, last, one JSON document on stdout; exits 1
 * if anything was lost, accepted wrongly or found broken.
 *
 *   npm run faults                          # every part, long sizes (about 25 minutes on 2 cores, as root)
 *   node dist/faults/report.js --ci         # the CI sizes, for a quick look
 *   node dist/faults/report.js --only fuzz,hostile --out figures.json
 */
import { writeFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { Command } from 'commander';
import { reportParts, type PartHeadline } from './reportParts.js';

const program = new Command('faults')
  .description('run the fault harnesses (crash loop, outages, disk faults, fuzzing, hostile credentials) and print a summary')
  .option('--ci', 'the short sizes CI runs, not the long ones')
  .option('--only <parts>', `comma-separated parts: ${reportParts.map((p) => p.name).join(', ')}`)
  .option('--out <file>', 'also write the JSON summary to this file')
  .parse();
const options = program.opts<{ ci?: boolean; only?: string; out?: string }>();

const wanted = options.only?.split(',').map((name) => name.trim());
const unknown = wanted?.filter((name) => !reportParts.some((p) => p.name === name)) ?? [];
if (unknown.length > 0) program.error(`--only: no part named ${unknown.join(', ')} (parts: ${reportParts.map((p) => p.name).join(', ')})`);
const parts = reportParts.filter((p) => !wanted || wanted.includes(p.name));

const started = Date.now();
const results: Record<string, { headline: PartHeadline; figures: unknown }> = {};
for (const part of parts) {
  process.stderr.write(`faults: ${part.name} (${options.ci ? 'CI' : 'long'} size)...\n`);
  const { headline, figures, lines } = await part.run(options.ci === true);
  results[part.name] = { headline, figures };
  process.stderr.write(`${lines.join('\n')}\n`);
}

const headlines = Object.values(results).map((r) => r.headline);
const sum = (field: keyof PartHeadline) => headlines.reduce((total, h) => total + (h[field] ?? 0), 0);
const summary = {
  size: options.ci ? 'ci' : 'long',
  killsSurvived: sum('kills'),
  tapsChecked: sum('tapsChecked'),
  fuzzInputs: sum('fuzzInputs'),
  attacksRefused: sum('attacksRefused'),
  lost: sum('lost'),
  wrong: sum('wrong'),
  minutes: Math.round((Date.now() - started) / 6000) / 10,
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), os: `${platform()} ${release()}`, node: process.version },
  at: new Date().toISOString(),
};
process.stderr.write(
  `faults: ${summary.killsSurvived} kills survived, ${summary.tapsChecked} taps checked, ${summary.fuzzInputs} fuzz inputs, ` +
    `${summary.attacksRefused} attacks refused; lost ${summary.lost}, wrong ${summary.wrong} (${summary.minutes} min)\n`,
);
const document = { summary, parts: results };
console.log(JSON.stringify(document));
if (options.out) writeFileSync(options.out, `${JSON.stringify(document, null, 2)}\n`);
process.exitCode = summary.lost + summary.wrong > 0 ? 1 : 0;
