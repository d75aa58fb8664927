// The dashboard in a real headless Chromium (Debian's, driven by playwright-core), against
// a daemon the calling test started with auth on:
//   1. /ui asks for the key (the API answered 401) and takes it;
//   2. the trigger's generated form is filled in, its image chosen as a file, and sent;
//   3. the job's page follows it to `completed`, with a thumbnail that loaded (at most
//      256 px) and the item's steps;
//   4. the jobs list shows it, filters by status;
//   5. a queued job is cancelled from its page;
//   6. /docs lists the operation and "Try it" sends it.
// Any console error, failed script or CSP violation fails the run. Screenshots of each
// step go to $ARTIFACTS. Prints {"job_id": ...} on its last line for the caller to check.
//
//   DASHBOARD_URL=http://127.0.0.1:PORT DASHBOARD_KEY=... DASHBOARD_IMAGE=photo.png \
//   DASHBOARD_OPERATION=edit DASHBOARD_BODY=body.json ARTIFACTS=out/ node dashboard_browser.mjs
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = path.join(here, '..', 'servers', 'node_modules', 'playwright-core', 'index.mjs');
const { chromium } = await import(pathToFileURL(modules));

const url = process.env.DASHBOARD_URL;
const key = process.env.DASHBOARD_KEY;
const image = process.env.DASHBOARD_IMAGE;
const operation = process.env.DASHBOARD_OPERATION;
const tryBody = readFileSync(process.env.DASHBOARD_BODY, 'utf8');
const artifacts = process.env.ARTIFACTS || '.';
mkdirSync(artifacts, { recursive: true });

const problems = [];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  // Root in a container has no user namespaces for the sandbox.
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
const step = (text) => console.log(`step: ${text}`);
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
try {
  page.on('console', (m) => {
    // 401s before the key is given are the page asking for it, not a fault.
    if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  const shot = (name) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });

  step('the key is asked for');
  await page.goto(`${url}/ui/`);
  await page.locator('#key-panel').waitFor({ state: 'visible' });
  await shot('01-key');
  await page.fill('#key-input', key);
  await page.click('#key-form button[type=submit]');
  await page.locator('#jobs-status', { hasText: /on this page|No jobs match/ }).waitFor();

  step('the form is filled in and sent');
  await page.click('a[data-nav=new]');
  const form = page.locator(`form[data-operation="${operation}"]`);
  await form.waitFor();
  await form.locator('[name=caption]').fill('a test from the browser');
  await form.locator('[name=strength]').fill('0.5');
  await form.locator('[name=style]').selectOption({ label: 'bold' });
  await form.locator('[name=sharpen]').check();
  await form.locator('input[type=file][name=image_base64]').setInputFiles(image);
  await shot('02-form');
  await form.locator('button[type=submit]').click();

  step('the job page follows the job to completed');
  await page.waitForURL(/#\/jobs\/[0-9a-f-]{36}$/);
  const jobId = page.url().split('/').pop();
  // Any end the job can reach, so a failed job fails the test at once, saying how.
  const badge = page.locator('#job .summary .badge', { hasText: /^(completed|completed with errors|failed|cancelled)$/ });
  await badge.waitFor({ timeout: 60000 });
  const ended = await badge.textContent();
  if (ended !== 'completed') {
    const error = await page.locator('#job p.error').allTextContents();
    assert.fail(`the job ended ${ended}: ${error.join('; ')}`);
  }
  const thumb = page.locator('#job img.thumb').first();
  await thumb.waitFor();
  await page.waitForFunction(() => {
    const img = document.querySelector('#job img.thumb');
    return img && img.complete && img.naturalWidth > 0;
  });
  const size = await thumb.evaluate((img) => ({ w: img.naturalWidth, h: img.naturalHeight, src: img.src }));
  assert.ok(size.w > 0 && size.w <= 256 && size.h > 0 && size.h <= 256, `thumbnail size ${JSON.stringify(size)}`);
  assert.ok(size.src.startsWith('blob:'), 'the thumbnail was fetched with the key');
  const steps = await page.locator('#job tr.step').allTextContents();
  assert.ok(steps.length >= 1, 'the item shows its steps');
  assert.ok(steps.some((s) => s.includes('local')), `a step names the local provider: ${steps}`);
  assert.equal(await page.locator('#cancel').isDisabled(), true, 'a finished job cannot be cancelled');
  await shot('03-job');

  step('the jobs list shows it and filters');
  await page.click('a[data-nav=jobs]');
  const row = page.locator(`tr[data-job="${jobId}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /completed/);
  await page.waitForFunction((id) => {
    const img = document.querySelector(`tr[data-job="${id}"] img.thumb`);
    return img && img.naturalWidth > 0;
  }, jobId);
  await shot('04-jobs');
  await page.selectOption('select[name=status]', 'failed');
  await page.locator('#jobs-status', { hasText: 'No jobs match.' }).waitFor();
  await page.selectOption('select[name=status]', 'completed');
  await row.waitFor();

  step('a queued job is cancelled from its page');
  // One job at a time (limits.jobs_in_flight: 1) and the slow provider's minute: the
  // first holds the slot, the second waits in the queue.
  const submitSlow = async () => {
    await page.goto(`${url}/ui/#/new/slow`);
    const slow = page.locator('form[data-operation="slow"]');
    await slow.locator('input[type=file][name=image_base64]').setInputFiles(image);
    await slow.locator('button[type=submit]').click();
    await page.waitForURL(/#\/jobs\/[0-9a-f-]{36}$/);
    return page.url().split('/').pop();
  };
  await submitSlow();
  const queuedId = await submitSlow();
  await page.locator('#job .summary .badge', { hasText: /^queued$/ }).waitFor();
  await page.click('#cancel');
  await page.locator('#job .summary .badge', { hasText: /^cancelled$/ }).waitFor();
  assert.match(await page.locator('#job-message').textContent(), /cancelled/);
  await shot('06-cancel');

  step('/docs lists the operation and tries it');
  await page.goto(`${url}/docs`);
  const op = page.locator(`#op-${operation}`);
  await op.waitFor();
  await op.locator('summary').first().click();
  await op.locator('textarea[name=body]').fill(tryBody);
  await op.locator('form.try button[type=submit]').click();
  await op.locator('.answer .status strong', { hasText: '202' }).waitFor();
  const answer = JSON.parse(await op.locator('.answer pre').textContent());
  assert.equal(answer.accepted, true);
  await shot('05-docs');

  assert.deepEqual(problems, [], 'no console errors, page errors or failed requests');
  console.log(JSON.stringify({ job_id: jobId, thumbnail: size, tried_job_id: answer.job_id, cancelled_job_id: queuedId }));
} catch (e) {
  console.error(e.stack || String(e));
  await page.screenshot({ path: path.join(artifacts, 'failed.png'), fullPage: true }).catch(() => {});
  if (problems.length) console.error(`also: ${problems.join('\n')}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
