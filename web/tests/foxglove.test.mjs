// The Foxglove WebSocket protocol of `shmframe web`, spoken by the protocol's
// own client (@foxglove/ws-protocol) under both subprotocol names, messages
// decoded by @foxglove/rosmsg2-serialization as Foxglove and Lichtblick do.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import pkg from "@foxglove/ws-protocol";
import { parse } from "@foxglove/rosmsg";
import { MessageReader } from "@foxglove/rosmsg2-serialization";
import * as h from "./harness.mjs";

const { FoxgloveClient } = pkg;

// What each format is sent as, and whether its bytes are the frame's own.
const ROS = {
  rgba: ["rgba8", 4, true], bgra: ["bgra8", 4, true], rgb24: ["rgb8", 3, true], bgr24: ["bgr8", 3, true],
  gray: ["mono8", 1, true], gray16le: ["mono16", 2, true], grayf32le: ["32FC1", 4, true],
  yuyv422: ["yuv422_yuy2", 2, true], nv12: ["rgb8", 3, false], yuv420p: ["rgb8", 3, false],
};

let server;
before(async () => { server = await h.startServer(["--token", "fox"]); });
after(async () => { await server?.stop(); });

/** A connected client that records what the server says. */
function connect(subprotocol) {
  const ws = new WebSocket(`ws://${server.host}/?token=fox`, [subprotocol]);
  const client = new FoxgloveClient({ ws });
  const seen = { serverInfo: null, channels: new Map(), removed: new Set(), messages: [], protocol: () => ws.protocol };
  client.on("serverInfo", (info) => { seen.serverInfo = info; });
  client.on("advertise", (channels) => channels.forEach((c) => seen.channels.set(c.id, c)));
  client.on("unadvertise", (ids) => ids.forEach((id) => seen.removed.add(id)));
  client.on("message", (m) => seen.messages.push(m));
  return { client, seen };
}

async function until(check, what, ms = 20000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const channelOf = (seen, topic) => [...seen.channels.values()].find((c) => c.topic === topic && !seen.removed.has(c.id));

async function firstMessage(seen, client, channel) {
  const id = client.subscribe(channel.id);
  const message = await until(() => seen.messages.find((m) => m.subscriptionId === id), `a message on ${channel.topic}`);
  client.unsubscribe(id);
  const reader = new MessageReader(parse(channel.schema, { ros2: true }));
  return { message, decoded: reader.readMessage(new Uint8Array(message.data.buffer, message.data.byteOffset, message.data.byteLength)) };
}

for (const subprotocol of ["foxglove.sdk.v1", "foxglove.websocket.v1"]) {
  test(`${subprotocol}: every format as sensor_msgs/msg/Image with exact pixels`, async () => {
    const publishers = {};
    for (const format of h.FORMATS) {
      publishers[format] = await h.publishRaw(h.unique(`fox-${subprotocol}-${format}`), format, h.fourColour(format));
    }
    const { client, seen } = connect(subprotocol);
    try {
      await until(() => seen.serverInfo, "serverInfo");
      assert.equal(seen.protocol(), subprotocol);
      assert.equal(seen.serverInfo.name, "shmframe");
      const converted = {};
      for (const format of h.FORMATS) {
        const name = h.unique(`fox-${subprotocol}-${format}`);
        const channel = await until(() => channelOf(seen, `/${name}`), `the channel of ${name}`);
        assert.equal(channel.encoding, "cdr");
        assert.equal(channel.schemaEncoding, "ros2msg");
        assert.equal(channel.schemaName, "sensor_msgs/msg/Image");
        const { message, decoded } = await firstMessage(seen, client, channel);
        const [encoding, bytesPerPixel, asIs] = ROS[format];
        assert.equal(decoded.encoding, encoding, format);
        assert.equal(decoded.width, h.SIDE);
        assert.equal(decoded.height, h.SIDE);
        assert.equal(decoded.is_bigendian, 0);
        assert.equal(decoded.step, h.SIDE * bytesPerPixel);
        const stamp = BigInt(decoded.header.stamp.sec) * 1000000000n + BigInt(decoded.header.stamp.nanosec);
        assert.ok(stamp > 0n);
        assert.equal(message.timestamp, stamp, "the message's timestamp is the frame's");
        const data = Buffer.from(decoded.data);
        if (asIs) {
          assert.ok(data.equals(h.fourColour(format)), `${format}: the frame's own bytes`);
        } else {
          converted[format] = data;
          for (let y = 0; y < h.SIDE; y++) for (let x = 0; x < h.SIDE; x++) {
            const want = h.COLOURS[h.quadrant(x, y)];
            const at = 3 * (y * h.SIDE + x);
            for (let c = 0; c < 3; c++) assert.ok(Math.abs(data[at + c] - want[c]) <= 3, `${format} at ${x},${y}`);
          }
        }
      }
      assert.ok(converted.nv12.equals(converted.yuv420p), "NV12 and I420 of the same samples give the same RGB");

      // CompressedImage: JPEG.
      const name = h.unique(`fox-${subprotocol}-rgb24`);
      const compressed = await until(() => channelOf(seen, `/${name}/compressed`), "the compressed channel");
      assert.equal(compressed.schemaName, "sensor_msgs/msg/CompressedImage");
      const { decoded } = await firstMessage(seen, client, compressed);
      assert.equal(decoded.format, "jpeg");
      assert.deepEqual([...decoded.data.slice(0, 2)], [0xff, 0xd8]);

      // A stream that goes is unadvertised.
      const gone = channelOf(seen, `/${name}`);
      await publishers.rgb24.stop();
      await until(() => seen.removed.has(gone.id) && seen.removed.has(compressed.id), "unadvertise");
    } finally {
      client.close();
      for (const p of Object.values(publishers)) await p.stop();
    }
  });
}

test("a stream that appears later is advertised to a connected client", async () => {
  const { client, seen } = connect("foxglove.websocket.v1");
  try {
    await until(() => seen.serverInfo, "serverInfo");
    await h.withStream("fox-late", (name) => h.publishPattern(name, "64x36", 30), async (name) => {
      const channel = await until(() => channelOf(seen, `/${name}`), "the late channel");
      const { decoded } = await firstMessage(seen, client, channel);
      assert.equal(decoded.encoding, "rgba8");
      assert.equal(decoded.width, 64);
    });
  } finally {
    client.close();
  }
});

test("without the token, or without a Foxglove subprotocol, the upgrade is refused", async () => {
  const refused = (url, protocols) => new Promise((resolve) => {
    const ws = new WebSocket(url, protocols);
    ws.on("unexpected-response", (req, res) => { resolve(res.statusCode); ws.terminate(); });
    ws.on("open", () => { resolve("open"); ws.close(); });
    ws.on("error", () => {});
  });
  assert.equal(await refused(`ws://${server.host}/`, ["foxglove.websocket.v1"]), 401);
  assert.equal(await refused(`ws://${server.host}/?token=fox`, ["other"]), 400);
});
