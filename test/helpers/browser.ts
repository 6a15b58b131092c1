/**
 * A real browser for the HTML report's tests: Debian's chromium
 * (/usr/bin/chromium, `needs(ctx, 'chromium')` gates the tests), driven by
 * playwright-core, which never downloads a browser of its own. Pages are
 * written under test-output/html/ and loaded from file:// as a user opens a
 * downloaded report; every console message, page error and request is
 * recorded so that tests can assert there were none but the file itself.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT } from './cli.js';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Offline flags: without the background-networking ones Chromium's own
 * connections (updates, sync, field trials) are refused on an offline
 * machine, many at a time.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--font-render-hinting=none',
];

/** Where pages and screenshots of a run go (gitignored). */
export const OUTPUT = join(ROOT, 'test-output/html');

let launched: Promise<Browser> | undefined;

/** One browser for the test file, started on first use. */
export function browser(): Promise<Browser> {
  launched ??= chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  return launched;
}

export async function closeBrowser(): Promise<void> {
  if (launched !== undefined) await (await launched).close();
  launched = undefined;
}

export interface LoadedPage {
  page: Page;
  url: string;
  file: string;
  /** Console messages of type error or warning, and uncaught page errors. */
  errors: string[];
  /** Every URL the page requested (the file itself included). */
  requests: string[];
  /** Milliseconds from navigation start to the second animation frame after load: the page laid out and painted (-1 without script). */
  renderMs: number;
  close(): Promise<void>;
}

export interface LoadOptions {
  viewport?: { width: number; height: number };
  /** false: open the page as a reader with script turned off. */
  javaScriptEnabled?: boolean;
}

/** Writes `html` to test-output/html/NAME.html and opens it from file:// in a fresh browser context. */
export async function load(html: string, name: string, opts: LoadOptions = {}): Promise<LoadedPage> {
  mkdirSync(OUTPUT, { recursive: true });
  const file = join(OUTPUT, `${name}.html`);
  writeFileSync(file, html);
  const url = pathToFileURL(file).href;
  const js = opts.javaScriptEnabled ?? true;
  const context = await (await browser()).newContext({ viewport: opts.viewport ?? { width: 1280, height: 900 }, deviceScaleFactor: 1, javaScriptEnabled: js });
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(url, { waitUntil: 'load' });
  // A string: the test code is type-checked without the DOM's types.
  const renderMs = js ? await page.evaluate<number>('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now()))))') : -1;
  return { page, url, file, errors, requests, renderMs, close: () => context.close() };
}

/** Opens the page, runs `fn` on it, and closes it whatever happens. */
export async function withPage<T>(html: string, name: string, fn: (p: LoadedPage) => Promise<T>, opts: LoadOptions = {}): Promise<T> {
  const p = await load(html, name, opts);
  try {
    return await fn(p);
  } finally {
    await p.close();
  }
}

/** Pixels that differ beyond anti-aliasing (pixelmatch, AA pixels not counted). */
export function diffPixels(a: PNG, b: PNG, out?: PNG): number {
  if (a.width !== b.width || a.height !== b.height) return Math.max(a.width * a.height, b.width * b.height);
  return pixelmatch(a.data, b.data, out?.data, a.width, a.height, { threshold: 0.1, includeAA: false });
}

/**
 * Screenshots are compared with their baseline under test/report/baselines/
 * with this many differing pixels allowed: anti-aliasing and sub-pixel text
 * may move a few, a missing arrow (~400 pixels) or a lane moved by a few
 * pixels (thousands) may not. test/report/html.browser.test.ts proves the
 * second half by breaking the drawing.
 */
export const MAX_DIFF_PIXELS = 60;

export const BASELINES = join(ROOT, 'test/report/baselines');

/**
 * Compares a screenshot with its baseline; SSNAT_UPDATE_BASELINES=1 writes
 * the baseline instead (review it by eye before committing). The
 * screenshot, and the diff when they differ, stay in test-output/html/.
 */
export function compareWithBaseline(png: Buffer, name: string): { diff: number; baseline: string } {
  mkdirSync(OUTPUT, { recursive: true });
  writeFileSync(join(OUTPUT, `${name}.png`), png);
  const baseline = join(BASELINES, `${name}.png`);
  if (process.env.SSNAT_UPDATE_BASELINES === '1') {
    mkdirSync(BASELINES, { recursive: true });
    writeFileSync(baseline, png);
  }
  if (!existsSync(baseline)) throw new Error(`no baseline ${baseline}: run with SSNAT_UPDATE_BASELINES=1, review test-output/html/${name}.png, and commit it`);
  const a = PNG.sync.read(readFileSync(baseline));
  const b = PNG.sync.read(png);
  const out = new PNG({ width: a.width, height: a.height });
  const diff = diffPixels(a, b, out);
  if (diff > 0 && a.width === b.width && a.height === b.height) writeFileSync(join(OUTPUT, `${name}.diff.png`), PNG.sync.write(out));
  return { diff, baseline };
}
