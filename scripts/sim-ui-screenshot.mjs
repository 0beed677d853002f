// The README's picture of the sim lane's page (assets/sim-ui.png): starts the
// built `citygate sim --ui --port 0`, presents a few passengers of the
// built-in rush hour in headless Debian chromium, and takes a screenshot.
//   node scripts/sim-ui-screenshot.mjs [OUT.png]     (after `npm run build`)
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2] ?? join(root, 'assets', 'sim-ui.png');
const CHROMIUM = { executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update'] };
/** Presented in this order; the last one (a senior, nobody walking yet) leaves the barrier open for the picture. */
const PASSENGERS = ['regular card', 'Sichuan offline code', 'forged code', 'QuickPass card (RSA)', 'lost card', 'city code', 'senior card'];

const sim = spawn(process.execPath, [join(root, 'dist', 'bin', 'citygate.js'), 'sim', '--ui', '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
const killSim = () => sim.exitCode === null && sim.signalCode === null && sim.kill('SIGTERM');
process.on('exit', killSim);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

function pageUrl() {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`the sim printed no address in 30 s: ${text}`)), 30_000);
    sim.stderr.on('data', (chunk) => {
      text += chunk;
      const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(text);
      if (url) {
        clearTimeout(timer);
        resolve(url[0]);
      }
    });
    sim.on('exit', (code) => reject(new Error(`the sim exited (${code}): ${text}`)));
  });
}

let browser;
try {
  const url = await pageUrl();
  browser = await chromium.launch(CHROMIUM);
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(url);
  await page.getByRole('button', { name: PASSENGERS[0], exact: true }).waitFor();
  await page.getByLabel('Passengers walk through when the barrier opens').setChecked(true);
  // One passenger at a time: the next presents once the one before has walked through.
  for (const [i, name] of PASSENGERS.entries()) {
    if (i === PASSENGERS.length - 1) await page.getByLabel('Passengers walk through when the barrier opens').setChecked(false);
    await page.getByRole('button', { name, exact: true }).click();
    await page.locator(`#taps tbody tr[data-n="${i + 1}"]`).waitFor();
    await page.locator(i === PASSENGERS.length - 1 ? '#lane.open' : '#lane.closed').waitFor();
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  // The barrier's flaps and the last walker's animation come to rest.
  await page.waitForTimeout(1_000);
  await page.screenshot({ path: out, fullPage: false });
  console.log(`wrote ${out}`);
} finally {
  await browser?.close();
  killSim();
}
