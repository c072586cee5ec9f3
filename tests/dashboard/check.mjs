// Headless Chromium check of the silo's dashboard (src/Silo/wwwroot).
//
//   node tests/dashboard/check.mjs <baseUrl> <screenshotPath> <processName> <breachKey> [timeoutMs] [iceberg]
//
// Opens the dashboard in Debian's Chromium (env CHROMIUM, else /usr/bin/chromium; never a downloaded browser),
// waits for body[data-ready=true], checks that the charts `rates`, `funnel-<process>`, `cycle-<process>` and
// `series-<process>` each hold a canvas of non-zero size with more than 50 drawn pixels (neither transparent nor
// the background) of which more than 50 are data (coloured: axes, grid and text are grey, so a chart whose axes
// are drawn but that shows no data counts as empty), then waits for the SLA breach row
// .breach[data-key=<breachKey>] to appear, and saves a full-page screenshot. Everything must happen
// within timeoutMs (default 60000) of opening the page. With "iceberg" it also waits for the lake table to show a
// committed Iceberg snapshot (a td.iceberg cell with data-snapshots of at least 1). When the silo requires a token for reads, pass it in env
// SAIKI_TOKEN: it is put into the page's session storage, where the dashboard's token field keeps it.
//
// Prints one JSON line: { "ok": true, "charts": { name: { width, height, pixels, dataPixels } },
// "breachSeenAfterMs": N } (ms since the page was opened) and
// exits 0; or { "ok": false, "error": "...", "consoleErrors": [...], "pageErrors": [...] } and exits 1. The page
// throwing an uncaught error fails the check.

import { chromium } from 'playwright-core';

const MIN_PIXELS = 50;
const MIN_CHROMA = 48; // max(r,g,b) - min(r,g,b) of a series' colour; grey axes, grid and text have about 0
const CHART_POLL_MS = 250;
const TOKEN_KEY = 'saiki.token'; // the dashboard's session-storage key for the API token

const consoleErrors = new Map(); // message -> how often
const pageErrors = [];

function finish(result) {
  const ok = result.ok;
  if (!ok) {
    Object.assign(result, {
      error: result.error.replace(/\u001b\[[0-9;]*m/g, ''), // Playwright colours its call logs
      consoleErrors: [...consoleErrors].map(([message, count]) => (count > 1 ? `${message} (${count} times)` : message)),
      pageErrors,
    });
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exitCode = ok ? 0 : 1;
}

/** Counts the canvas pixels of a chart container that are neither transparent nor the page's background, and how
 * many of those are coloured. Runs in the page. */
function measureChart([selector, minChroma]) {
  const container = document.querySelector(selector);
  if (!container) return { error: 'no such element' };
  const canvas = container.querySelector('canvas');
  if (!canvas) return { error: 'no canvas' };
  const box = canvas.getBoundingClientRect();
  const result = { width: canvas.width, height: canvas.height, pixels: 0, dataPixels: 0 };
  if (!canvas.width || !canvas.height || !box.width || !box.height) return result;

  let background = [255, 255, 255];
  for (let node = container; node; node = node.parentElement) {
    const parts = getComputedStyle(node).backgroundColor.match(/[\d.]+/g)?.map(Number) ?? [];
    if (parts.length === 3 || (parts.length === 4 && parts[3] > 0)) {
      background = parts.slice(0, 3);
      break;
    }
  }
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 0; i < data.length; i += 4) {
    const isBackground = data[i + 3] === 255
      && data[i] === background[0] && data[i + 1] === background[1] && data[i + 2] === background[2];
    if (data[i + 3] === 0 || isBackground) continue;
    result.pixels++;
    const chroma = Math.max(data[i], data[i + 1], data[i + 2]) - Math.min(data[i], data[i + 1], data[i + 2]);
    if (chroma >= minChroma) result.dataPixels++;
  }
  return result;
}

async function main() {
  const [baseUrl, screenshotPath, processName, breachKey, timeoutArg, icebergArg] = process.argv.slice(2);
  const timeoutMs = timeoutArg === undefined ? 60000 : Number(timeoutArg);
  if (!baseUrl || !screenshotPath || !processName || !breachKey || !(timeoutMs > 0)) {
    throw new Error('usage: node tests/dashboard/check.mjs <baseUrl> <screenshotPath> <processName> <breachKey> [timeoutMs]');
  }
  const chartNames = ['rates', `funnel-${processName}`, `cycle-${processName}`, `series-${processName}`];
  const attribute = value => JSON.stringify(value); // a CSS string is quoted and escaped like a JSON one

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    if (process.env.SAIKI_TOKEN) {
      await context.addInitScript(([key, token]) => sessionStorage.setItem(key, token), [TOKEN_KEY, process.env.SAIKI_TOKEN]);
    }
    const page = await context.newPage();
    page.on('console', message => {
      if (message.type() === 'error') consoleErrors.set(message.text(), (consoleErrors.get(message.text()) ?? 0) + 1);
    });
    page.on('pageerror', error => pageErrors.push(error.message));
    const threw = () => {
      if (pageErrors.length) throw new Error(`the page threw: ${pageErrors[0]}`);
    };

    const opened = Date.now();
    const remaining = () => Math.max(1, timeoutMs - (Date.now() - opened));
    await page.goto(baseUrl, { timeout: remaining() });
    await page.waitForSelector('body[data-ready="true"]', { state: 'attached', timeout: remaining() })
      .catch(async () => {
        const status = await page.textContent('#status').catch(() => null);
        throw new Error(`body[data-ready=true] did not appear within ${timeoutMs} ms (page status: ${status})`);
      });
    threw();

    const charts = {};
    for (const name of chartNames) {
      const selector = `.chart[data-chart=${attribute(name)}]`;
      for (;;) {
        const measured = await page.evaluate(measureChart, [selector, MIN_CHROMA]);
        threw();
        if (!measured.error && measured.pixels > MIN_PIXELS && measured.dataPixels > MIN_PIXELS) {
          charts[name] = measured;
          break;
        }
        if (remaining() <= CHART_POLL_MS) {
          throw new Error(`chart ${name}: ${measured.error ?? `${measured.width}x${measured.height} canvas with `
            + `${measured.pixels} drawn pixels, ${measured.dataPixels} of them data (need > ${MIN_PIXELS} of each)`}`);
        }
        await page.waitForTimeout(CHART_POLL_MS);
      }
    }

    await page.waitForSelector(`.breach[data-key=${attribute(breachKey)}]`, { state: 'attached', timeout: remaining() })
      .catch(() => { throw new Error(`no .breach row with data-key ${attribute(breachKey)} within ${timeoutMs} ms`); });
    const breachSeenAfterMs = Date.now() - opened;
    threw();

    let icebergSnapshots;
    if (icebergArg === 'iceberg') {
      await page.waitForSelector('#completeness td.iceberg[data-snapshots]', { state: 'attached', timeout: remaining() })
        .catch(() => { throw new Error(`no table shows a committed Iceberg snapshot within ${timeoutMs} ms`); });
      icebergSnapshots = Number(await page.getAttribute('#completeness td.iceberg[data-snapshots]', 'data-snapshots'));
      if (!(icebergSnapshots >= 1)) throw new Error(`the Iceberg cell shows ${icebergSnapshots} snapshots`);
      threw();
    }

    await page.screenshot({ path: screenshotPath, fullPage: true });
    threw();
    finish({ ok: true, charts, breachSeenAfterMs, icebergSnapshots });
  } finally {
    await browser.close();
  }
}

main().catch(error => finish({ ok: false, error: error.message }));
