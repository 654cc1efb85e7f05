// `shmframe web` in Debian's headless Chromium: the index follows streams,
// the stream page draws every format with exact pixels (raw) or close ones
// (JPEG), shows fps, latency and the gray range, and probes pixels.
// Screenshots go to target/web-screenshots/ for a person to look at.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import * as h from "./harness.mjs";

let server, browser;
before(async () => {
  server = await h.startServer();
  browser = await h.launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The canvas's RGBA bytes. */
const canvasPixels = (page) => page.evaluate(() => {
  const c = document.getElementById("frame");
  return Array.from(c.getContext("2d").getImageData(0, 0, c.width, c.height).data);
});

/** The server's exact PNG snapshot of `name`, decoded by the browser. */
const snapshotPixels = (page, name) => page.evaluate(async (name) => {
  const blob = await (await fetch(`/snapshot/${name}.png`)).blob();
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext("2d");
  context.drawImage(bitmap, 0, 0);
  return Array.from(context.getImageData(0, 0, bitmap.width, bitmap.height).data);
}, name);

async function openStream(name, query = "") {
  const page = await browser.context.newPage();
  await page.goto(`${server.url}/stream/${name}${query}`);
  await page.waitForFunction(() => window.shmframe && window.shmframe.drawn >= 2, null, { timeout: 20000 });
  return page;
}

test("the index lists a stream, with a thumbnail, and drops it when the writer stops", async () => {
  const name = h.unique("index");
  const publisher = await h.publishPattern(name, "320x180", 30);
  const page = await browser.context.newPage();
  await page.goto(server.url + "/");
  const card = page.locator(`.stream[data-name="${name}"]`);
  await card.waitFor({ timeout: 20000 });
  await page.waitForFunction((name) => {
    const img = document.querySelector(`.stream[data-name="${name}"] img`);
    return img && img.complete && img.naturalWidth === 240;
  }, name, { timeout: 20000 });
  await page.waitForFunction((name) => parseFloat(document.querySelector(`.stream[data-name="${name}"] .fps`).textContent) > 5, name, { timeout: 20000 });
  assert.match(await card.locator(".size").textContent(), /320x180 rgba8/);
  assert.match(await card.locator(".state").textContent(), /alive/);
  await page.screenshot({ path: join(h.screenshots, "index.png") });
  await publisher.stop();
  await card.waitFor({ state: "detached", timeout: 20000 });
  await page.close();
});

for (const format of h.FORMATS) {
  test(`raw mode draws ${format} with exact pixels, JPEG mode close to them`, async () => {
    await h.withStream(`fmt-${format}`, (name) => h.publishRaw(name, format, h.fourColour(format)), async (name) => {
      const page = await openStream(name, "?codec=raw");
      const header = await page.evaluate(() => window.shmframe.header);
      assert.equal(header.codec, "raw");
      assert.equal(header.format !== undefined, true);
      assert.deepEqual([header.width, header.height], [h.SIDE, h.SIDE]);
      const got = await canvasPixels(page);
      assert.equal(got.length, h.SIDE * h.SIDE * 4);
      const reference = h.isYuv(format) ? await snapshotPixels(page, name) : null;
      for (let y = 0; y < h.SIDE; y++) {
        for (let x = 0; x < h.SIDE; x++) {
          const at = 4 * (y * h.SIDE + x);
          const pixel = got.slice(at, at + 4);
          const want = h.shown(format, h.quadrant(x, y));
          if (reference) {
            // Exactly what `shmframe snapshot` saves, and near the intended colour.
            assert.deepEqual(pixel, reference.slice(at, at + 4), `${format} at ${x},${y}`);
            for (let c = 0; c < 3; c++) assert.ok(Math.abs(pixel[c] - want[c]) <= 3, `${format} at ${x},${y}: ${pixel} vs ${want}`);
          } else {
            assert.deepEqual(pixel, [...want, 255], `${format} at ${x},${y}`);
          }
        }
      }
      await page.screenshot({ path: join(h.screenshots, `stream-raw-${format}.png`) });
      await page.close();

      const jpegPage = await openStream(name);
      assert.equal(await jpegPage.evaluate(() => window.shmframe.header.codec), "jpeg");
      const jpeg = await canvasPixels(jpegPage);
      for (const [x, y] of [[8, 8], [56, 8], [8, 56], [56, 56]]) {
        const at = 4 * (y * h.SIDE + x);
        const want = h.shown(format, h.quadrant(x, y));
        for (let c = 0; c < 3; c++) assert.ok(Math.abs(jpeg[at + c] - want[c]) <= 24, `${format} JPEG at ${x},${y}: ${jpeg.slice(at, at + 3)} vs ${want}`);
      }
      await jpegPage.close();
    });
  });
}

test("gray16 shows its range, takes a chosen window, and the probe reads stored values", async () => {
  await h.withStream("gray16", (name) => h.publishRaw(name, "gray16le", h.fourColour("gray16le")), async (name) => {
    const page = await openStream(name, "?codec=raw");
    await page.waitForFunction(() => document.getElementById("gray-range").textContent === "1000..4000");
    assert.equal(await page.locator("#gray").isVisible(), true);
    // A window of 1000..2000: the second quadrant becomes white, the first stays black.
    await page.fill("#gray-min", "1000");
    await page.fill("#gray-max", "2000");
    await page.click("#gray-apply");
    await page.waitForFunction(() => document.getElementById("gray-range").textContent === "1000..2000", null, { timeout: 20000 });
    await page.waitForFunction(() => window.shmframe.header.gray_max === 2000);
    const pixels = await canvasPixels(page);
    const at = (x, y) => pixels.slice(4 * (y * h.SIDE + x), 4 * (y * h.SIDE + x) + 3);
    assert.deepEqual(at(40, 8), [255, 255, 255]);
    assert.deepEqual(at(8, 8), [0, 0, 0]);
    // The probe: the mouse over the top-right quadrant.
    const box = await page.locator("#frame").boundingBox();
    await page.mouse.move(box.x + box.width * 0.75, box.y + box.height * 0.25);
    await page.waitForFunction(() => document.getElementById("probe").dataset.value === "[2000]", null, { timeout: 20000 });
    assert.match(await page.locator("#probe").textContent(), /gray 2000/);
    await page.screenshot({ path: join(h.screenshots, "stream-gray16-window.png") });
    await page.close();
  });
});

test("the stream page shows fps and publish-to-draw latency; max_width scales the picture", async () => {
  await h.withStream("live", (name) => h.publishPattern(name, "640x360", 30), async (name) => {
    const page = await openStream(name);
    await page.waitForFunction(() => window.shmframe.drawn >= 20, null, { timeout: 20000 });
    const fps = parseFloat(await page.locator("#fps").textContent());
    const latency = parseFloat(await page.locator("#latency").textContent());
    assert.ok(fps > 0, `fps shown: ${fps}`);
    assert.ok(Number.isFinite(latency) && latency >= 0, `latency shown: ${latency}`);
    assert.match(await page.locator("#size").textContent(), /^640x360$/);
    assert.equal(await page.locator("#format").textContent(), "rgba8");
    assert.ok(parseInt(await page.locator("#number").textContent()) > 0);
    await page.screenshot({ path: join(h.screenshots, "stream-pattern-jpeg.png") });
    await page.close();

    const small = await openStream(name, "?max_width=160&max_fps=10");
    const size = await small.evaluate(() => [document.getElementById("frame").width, document.getElementById("frame").height]);
    assert.deepEqual(size, [160, 90]);
    assert.match(await small.locator("#size").textContent(), /640x360 \(shown 160x90\)/);
    await small.close();
  });
});

test("pause stops drawing, resume goes on", async () => {
  await h.withStream("pause", (name) => h.publishPattern(name, "320x180", 30), async (name) => {
    const page = await openStream(name);
    await page.click("#pause");
    const drawn = await page.evaluate(() => window.shmframe.drawn);
    await page.waitForTimeout(500);
    // At most the frame already in flight is drawn after the click.
    assert.ok((await page.evaluate(() => window.shmframe.drawn)) <= drawn + 1);
    await page.click("#pause");
    await page.waitForFunction((n) => window.shmframe.drawn > n + 3, drawn, { timeout: 20000 });
    await page.close();
  });
});

test("with --token, the pages pass the token on by themselves", async () => {
  const guarded = await h.startServer(["--token", "page-secret"]);
  try {
    await h.withStream("token", (name) => h.publishPattern(name, "160x90", 30), async (name) => {
      const page = await browser.context.newPage();
      const refused = await page.goto(`${guarded.url}/`);
      assert.equal(refused.status(), 401);
      await page.goto(`${guarded.url}/?token=page-secret`);
      await page.waitForFunction((name) => {
        const img = document.querySelector(`.stream[data-name="${name}"] img`);
        return img && img.complete && img.naturalWidth > 0;
      }, name, { timeout: 20000 });
      // The card's link carries the token to the stream page, whose socket and probe carry it on.
      await page.click(`.stream[data-name="${name}"] a`);
      await page.waitForFunction(() => window.shmframe && window.shmframe.drawn >= 2, null, { timeout: 20000 });
      assert.match(page.url(), /token=page-secret/);
      await page.close();
    });
  } finally {
    await guarded.stop();
  }
});
