// paws serve's page in headless Chromium, as a phone would show it: choose a photo,
// read the breed the page shows, keep a screenshot; then a file that is no photo must
// show an error, not a breed.
//
//   node page.test.mjs URL PHOTO EXPECTED_BREED|- SCREENSHOT.png
//
// Run by scripts/test-browser.sh, which starts `paws serve` and installs Chromium
// (Debian's) and playwright-core (npm). Exits non-zero with a message on any failure.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, photo, expected, screenshot] = process.argv.slice(2);
if (!screenshot) {
  console.error("usage: node page.test.mjs URL PHOTO EXPECTED_BREED|- SCREENSHOT.png");
  process.exit(2);
}
const origin = new URL(url).origin;

const browser = await chromium.launch({
  executablePath: process.env.PAWS_CHROMIUM || "/usr/bin/chromium",
  // As root in a container Chromium needs --no-sandbox; the rest keep it from calling
  // Google's services, which this network refuses.
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  // A phone-sized page.
  const context = await browser.newContext({
    viewport: { width: 412, height: 915 },
    deviceScaleFactor: 1,
    isMobile: true,
    hasTouch: true,
  });
  const page = await context.newPage();
  const requests = [];
  const problems = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });

  await page.goto(url);
  assert.equal(await page.title(), "paws: which breed?");
  // Both ways in: the camera (capture) and the photo library.
  assert.equal(await page.getAttribute("#camera", "capture"), "environment");
  assert.equal(await page.getAttribute("#chooser", "accept"), "image/*");
  await page.waitForFunction(() => document.getElementById("model-info").textContent.length > 0);
  assert.match(await page.textContent("#model-info"), /37 breeds/);

  await page.setInputFiles("#chooser", photo);
  await page.waitForSelector("#result:not([hidden])", { timeout: 120_000 });
  const top = await page.$$eval("#breeds li", (items) =>
    items.map((li) => ({ breed: li.dataset.breed, score: Number(li.dataset.score), text: li.textContent })),
  );
  const verdict = (await page.textContent("#verdict")).trim();
  console.log(`page: ${photo} -> ${verdict}; ${top.map((t) => `${t.breed} ${t.score.toFixed(3)}`).join(", ")}`);
  assert.equal(top.length, 3);
  assert.ok(top[0].score >= top[1].score && top[1].score >= top[2].score, JSON.stringify(top));
  assert.match(top[0].text, /(cat|dog) · \d+(\.\d)? %/);
  if (expected !== "-") {
    assert.equal(top[0].breed, expected, `the page named ${top[0].breed}, expected ${expected}`);
  }
  // The verdict says the breed, or "Not sure" below the service's bound.
  const sure = top[0].score >= 0.5;
  assert.equal(verdict.startsWith("Not sure"), !sure, verdict);
  assert.ok(verdict.includes(top[0].breed.replace(/_/g, " ")), verdict);
  const preview = await page.$eval("#preview", (img) => img.naturalWidth);
  assert.ok(preview > 0, "the photo is not shown");
  await page.screenshot({ path: screenshot, fullPage: true });

  // A letter named like a photo: an error on the page, and the old result hidden.
  const dir = mkdtempSync(join(tmpdir(), "paws-page-"));
  const letter = join(dir, "not-a-photo.jpg");
  writeFileSync(letter, "Dear shelter, this is a letter, not a photo.\n".repeat(20));
  await page.setInputFiles("#chooser", letter);
  await page.waitForSelector("#status.error", { timeout: 30_000 });
  assert.match(await page.textContent("#status"), /unrecognised image format/);
  assert.equal(await page.isHidden("#result"), true);

  // Everything the page loaded came from paws itself.
  const foreign = requests.filter((r) => !r.startsWith(origin) && !r.startsWith("blob:"));
  assert.deepEqual(foreign, [], "requests outside paws");
  // The browser logs the 415 as a failed resource load: that one is expected.
  const unexpected = problems.filter((p) => !p.includes("415"));
  assert.deepEqual(unexpected, [], "errors on the page");
  console.log(`page: ok (${requests.length} requests, screenshot ${screenshot})`);
} finally {
  await browser.close();
}
