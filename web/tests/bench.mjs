// Benchmark of `shmframe web` (not a test: it asserts nothing, it reports).
//
//   cargo build --release -p shmframe-cli
//   (cd web/tests && SHMFRAME_CLI=$PWD/../../target/release/shmframe node bench.mjs)
//
// 1. Publish-to-draw latency in headless Chromium, one 1080p 60 fps stream,
//    JPEG and raw: the page's own measurement (draw time minus the writer's
//    publish time, one clock), median and 90th percentile.
// 2. Server CPU with 1 and with 8 watchers of that stream (browser pages, and
//    plain WebSocket clients that acknowledge at once, which leave the CPU to
//    the server), from /proc/PID/stat, with the frames encoded (/api/stats)
//    and, for the plain clients, publish-to-arrival latency (the server's part).
// 3. ffmpeg's MJPEG encoder on frames of the same stream, as a reference cost.

import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import * as h from "./harness.mjs";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const TICKS = 100; // clock ticks per second of /proc/PID/stat (USER_HZ)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : NaN; };
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * p))] : NaN; };

function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

async function published(server, name) {
  const list = await (await fetch(`${server.url}/api/streams`)).json();
  return list.find((s) => s.name === name).frames_published;
}

/** Server CPU (% of one core), frames published and frames encoded over SECONDS. */
async function measure(server, name) {
  const encodings = async () => (await (await fetch(`${server.url}/api/stats`)).json()).encodings;
  const [cpu0, frames0, enc0, t0] = [cpuSeconds(server.pid), await published(server, name), await encodings(), performance.now()];
  await sleep(SECONDS * 1000);
  const [cpu1, frames1, enc1, t1] = [cpuSeconds(server.pid), await published(server, name), await encodings(), performance.now()];
  const seconds = (t1 - t0) / 1000;
  return {
    cpuPercent: 100 * (cpu1 - cpu0) / seconds,
    publishedFps: (frames1 - frames0) / seconds,
    encodingsPerSecond: (enc1 - enc0) / seconds,
    cpuMsPerEncoding: enc1 > enc0 ? 1000 * (cpu1 - cpu0) / (enc1 - enc0) : null,
  };
}

/** A WebSocket watcher that acknowledges each frame at once; counts frames. */
function socketClient(server, name, codec) {
  const ws = new WebSocket(`ws://${server.host}/ws/${name}?codec=${codec}`);
  const client = { frames: 0, latencies: [], close: () => ws.close() };
  ws.on("message", (data) => {
    const length = data.readUInt32LE(0);
    const header = JSON.parse(data.subarray(4, 4 + length));
    client.frames += 1;
    client.latencies.push(performance.timeOrigin + performance.now() - header.published_unix_ms);
    client.last = data.subarray(4 + length);
    ws.send(JSON.stringify({ ack: header.serial }));
  });
  return client;
}

const server = await h.startServer();
const name = h.unique("bench");
const publisher = await h.publishPattern(name, "1920x1080", 60);
const browser = await h.launchBrowser();
const results = { date: new Date().toISOString(), seconds: SECONDS, latency: {}, cpu: {} };
try {
  await sleep(1000);
  // Idle: nobody watches, so the server reads nothing.
  results.cpu.idle = await measure(server, name);

  for (const codec of ["jpeg", "raw"]) {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/stream/${name}?codec=${codec}`);
    await page.waitForFunction(() => window.shmframe && window.shmframe.drawn >= 10, null, { timeout: 30000 });
    await page.evaluate(() => { window.shmframe.latencies = []; window.shmframe.arrivals = []; window.shmframe.drawn = 0; });
    await sleep(SECONDS * 1000);
    const { latencies, arrivals, drawn } = await page.evaluate(() => ({ latencies: window.shmframe.latencies, arrivals: window.shmframe.arrivals, drawn: window.shmframe.drawn }));
    results.latency[codec] = { medianMs: median(latencies), p90Ms: pct(latencies, 0.9), arrivalMedianMs: median(arrivals), drawnFps: drawn / SECONDS };
    await page.close();
  }

  for (const pages of [1, 8]) {
    const opened = [];
    for (let i = 0; i < pages; i++) {
      const page = await browser.context.newPage();
      await page.goto(`${server.url}/stream/${name}`);
      opened.push(page);
    }
    await Promise.all(opened.map((p) => p.waitForFunction(() => window.shmframe && window.shmframe.drawn >= 5, null, { timeout: 60000 })));
    const before = await Promise.all(opened.map((p) => p.evaluate(() => window.shmframe.drawn)));
    const m = await measure(server, name);
    const after = await Promise.all(opened.map((p) => p.evaluate(() => window.shmframe.drawn)));
    m.drawnFpsPerPage = after.reduce((s, a, i) => s + a - before[i], 0) / pages / SECONDS;
    results.cpu[`jpeg_pages_${pages}`] = m;
    for (const p of opened) await p.close();
  }

  for (const [clients, codec] of [[1, "raw"], [1, "jpeg"], [8, "jpeg"]]) {
    const opened = Array.from({ length: clients }, () => socketClient(server, name, codec));
    await sleep(2000);
    const before = opened.map((c) => c.frames);
    const m = await measure(server, name);
    m.framesFpsPerClient = opened.reduce((s, c, i) => s + c.frames - before[i], 0) / clients / SECONDS;
    // Publish to arrival in a client that does not draw: the server's part of the latency.
    m.receiveLatencyMedianMs = median(opened.flatMap((c) => c.latencies.slice(before[opened.indexOf(c)])));
    results.cpu[`${codec}_sockets_${clients}`] = m;
    opened.forEach((c) => c.close());
    await sleep(500);
  }

  // The reference: ffmpeg's MJPEG encoder on 30 frames of this stream (raw RGBA, as the server reads them).
  const grabber = socketClient(server, name, "raw");
  const frames = [];
  while (frames.length < 30) {
    await sleep(20);
    if (grabber.last && grabber.last !== frames[frames.length - 1]) frames.push(grabber.last);
  }
  grabber.close();
  const file = join(tmpdir(), `shmframe-bench-${process.pid}.rgba`);
  writeFileSync(file, Buffer.concat(frames));
  const run = spawnSync("ffmpeg", ["-hide_banner", "-benchmark", "-f", "rawvideo", "-pix_fmt", "rgba", "-s", "1920x1080", "-i", file,
    "-c:v", "mjpeg", "-q:v", "5", "-threads", "1", "-f", "null", "-"], { encoding: "utf8" });
  rmSync(file);
  const bench = run.stderr.match(/bench: utime=([\d.]+)s stime=([\d.]+)s/);
  results.ffmpeg_mjpeg_1_thread = bench
    ? { frames: frames.length, cpuMsPerFrame: (Number(bench[1]) + Number(bench[2])) * 1000 / frames.length }
    : { error: run.stderr.slice(-500) };
} catch (e) {
  console.error(e);
} finally {
  await browser.close();
  await publisher.stop();
  await server.stop();
}
console.log(JSON.stringify(results, null, 2));
