// What the browser and Foxglove tests share: the `shmframe` binary, a server
// on a free port, publishers of the four-colour test image, Chromium.

import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const repo = join(here, "..", "..");
export const shmframe = process.env.SHMFRAME_CLI ?? join(repo, "target", "debug", "shmframe");
export const screenshots = join(repo, "target", "web-screenshots");
mkdirSync(screenshots, { recursive: true });

const children = new Set();
process.on("exit", () => { for (const child of children) child.kill("SIGKILL"); });

export function unique(tag) {
  return `web-node-${process.pid}-${tag}`;
}

/** Starts `shmframe web` on a free port; resolves to {url, stop}. */
export function startServer(extra = []) {
  const child = spawn(shmframe, ["web", "--listen", "127.0.0.1:0", ...extra], { stdio: ["ignore", "pipe", "inherit"] });
  children.add(child);
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("shmframe web did not start: " + out)), 20000);
    child.stdout.on("data", (data) => {
      out += data;
      const match = out.match(/http:\/\/([0-9.:]+)\//);
      if (match) {
        clearTimeout(timer);
        resolve({ url: `http://${match[1]}`, host: match[1], pid: child.pid, stop: () => stop(child) });
      }
    });
    child.on("exit", (code) => reject(new Error(`shmframe web exited with ${code}: ${out}`)));
  });
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.on("exit", () => { children.delete(child); resolve(); });
    child.kill("SIGTERM");
  });
}

// ffmpeg's names of the engine's formats.
export const FORMATS = ["rgba", "bgra", "rgb24", "bgr24", "gray", "gray16le", "grayf32le", "nv12", "yuv420p", "yuyv422"];
export const SIDE = 64;
export const COLOURS = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]];
const GRAY8 = [0, 85, 170, 255];
export const GRAY16 = [1000, 2000, 3000, 4000];
const GRAYF32 = [-1.0, 0.0, 0.5, 2.0];
// BT.601 limited-range Y, U, V of red, green, blue, white.
const YUV = [[81, 90, 240], [145, 54, 34], [41, 240, 110], [235, 128, 128]];

export const quadrant = (x, y) => (y >= SIDE / 2 ? 2 : 0) + (x >= SIDE / 2 ? 1 : 0);

/** The four-colour image as `format`'s bytes (ffmpeg's layout). */
export function fourColour(format) {
  const bytes = [];
  const each = (f) => { for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) f(x, y, quadrant(x, y)); };
  const chroma = (c) => { const out = []; for (let y = 0; y < SIDE / 2; y++) for (let x = 0; x < SIDE / 2; x++) out.push(YUV[quadrant(2 * x, 2 * y)][c]); return out; };
  switch (format) {
    case "rgba": each((x, y, q) => bytes.push(...COLOURS[q], 255)); break;
    case "bgra": each((x, y, q) => bytes.push(...[...COLOURS[q]].reverse(), 255)); break;
    case "rgb24": each((x, y, q) => bytes.push(...COLOURS[q])); break;
    case "bgr24": each((x, y, q) => bytes.push(...[...COLOURS[q]].reverse())); break;
    case "gray": each((x, y, q) => bytes.push(GRAY8[q])); break;
    case "gray16le": each((x, y, q) => bytes.push(GRAY16[q] & 255, GRAY16[q] >> 8)); break;
    case "grayf32le": each((x, y, q) => bytes.push(...new Uint8Array(new Float32Array([GRAYF32[q]]).buffer))); break;
    case "nv12": { each((x, y, q) => bytes.push(YUV[q][0])); const u = chroma(1), v = chroma(2); u.forEach((_, i) => bytes.push(u[i], v[i])); break; }
    case "yuv420p": each((x, y, q) => bytes.push(YUV[q][0])); bytes.push(...chroma(1), ...chroma(2)); break;
    case "yuyv422": each((x, y, q) => { if (x % 2 === 0) bytes.push(YUV[q][0], YUV[q][1], YUV[q][0], YUV[q][2]); }); break;
    default: throw new Error(format);
  }
  return Buffer.from(bytes);
}

/** The RGB shown for quadrant q of `format` (gray over its range; YUV approximately). */
export function shown(format, q) {
  if (format === "gray" || format === "gray16le") return Array(3).fill(GRAY8[q]);
  if (format === "grayf32le") return Array(3).fill([0, 85, 128, 255][q]);
  return COLOURS[q];
}
export const isYuv = (format) => ["nv12", "yuv420p", "yuyv422"].includes(format);

/** Publishes `frame` as stream `name` in `format`, again every `periodMs`; resolves once it exists. */
export async function publishRaw(name, format, frame, periodMs = 50) {
  const child = spawn(shmframe, ["publish", "--raw", `${SIDE}x${SIDE}`, "--format", format, "--name", name, "-q"], { stdio: ["pipe", "ignore", "inherit"] });
  children.add(child);
  child.stdin.on("error", () => {});
  child.stdin.write(frame);
  const timer = setInterval(() => child.stdin.write(frame), periodMs);
  await waitForStream(name);
  return { stop: () => { clearInterval(timer); child.stdin.end(); return stop(child); } };
}

/** Publishes shmframe's moving test pattern; resolves once it exists. */
export async function publishPattern(name, size = "640x360", fps = 30) {
  const child = spawn(shmframe, ["publish", "--pattern", size, "--fps", String(fps), "--name", name, "-q"], { stdio: ["ignore", "ignore", "inherit"] });
  children.add(child);
  await waitForStream(name);
  return { stop: () => stop(child) };
}

/** Runs `body(name)` while the publisher that `publish(name)` starts writes a
 *  new stream named for `tag`; stops the publisher afterwards, whatever happens. */
export async function withStream(tag, publish, body) {
  const name = unique(tag);
  const publisher = await publish(name);
  try {
    return await body(name);
  } finally {
    await publisher.stop();
  }
}

async function waitForStream(name) {
  const dir = process.env.SHMFRAME_DIR ?? "/dev/shm";
  const { existsSync } = await import("node:fs");
  const deadline = Date.now() + 20000;
  while (!existsSync(join(dir, `shmframe.${name}`))) {
    if (Date.now() > deadline) throw new Error(`stream ${name} did not appear`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Debian's Chromium, headless, with a fresh profile; nothing downloaded. */
export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), "shmframe-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  return {
    context,
    close: async () => { await context.close(); rmSync(profile, { recursive: true, force: true }); },
  };
}
