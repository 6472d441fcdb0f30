#!/usr/bin/env node
// Generates Parley's icons without any image tool: the shapes are signed-distance functions rendered
// with 4x4 supersampling and written as PNG (zlib from Node), then packed into .ico and .icns.
// Output (committed, so packaging needs nothing but Node): build/icons/png/<n>x<n>.png, icon.png,
// icon.ico, icon.icns, and build/icons/tray/tray-<presence>[-unread][@2x].png.
// Run: node build/make-icons.mjs   (deterministic: same bytes every run)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const outDir = join(dirname(fileURLToPath(import.meta.url)), 'icons');

// ---- PNG -------------------------------------------------------------------------------------------
const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
export function encodePng(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---- shapes (coordinates in 0..1, y down) ---------------------------------------------------------
const sdRoundRect = (x, y, cx, cy, hw, hh, r) => {
  const qx = Math.abs(x - cx) - hw + r;
  const qy = Math.abs(y - cy) - hh + r;
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
};
const sdCircle = (x, y, cx, cy, r) => Math.hypot(x - cx, y - cy) - r;
// Triangle tail of the speech bubble (three half-planes).
const sdTail = (x, y, ax, ay, bx, by, tx, ty) => {
  const edge = (x0, y0, x1, y1) => ((x1 - x0) * (y - y0) - (y1 - y0) * (x - x0)) / Math.hypot(x1 - x0, y1 - y0);
  const e = [edge(ax, ay, bx, by), edge(bx, by, tx, ty), edge(tx, ty, ax, ay)];
  // Inside means all edges agree in sign, whichever way the corners wind.
  return Math.min(Math.max(...e), Math.max(...e.map((v) => -v)));
};
const bubble = (x, y, cx, cy, hw, hh) =>
  Math.min(
    sdRoundRect(x, y, cx, cy, hw, hh, hh * 0.55),
    sdTail(x, y, cx - hw * 0.55, cy + hh * 0.6, cx - hw * 0.05, cy + hh * 0.6, cx - hw * 0.7, cy + hh * 1.55),
  );

const mix = (a, b, t) => a.map((v, i) => v + (b[i] - v) * t);
const hex = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));

/** Paints layers (back to front) of [sdf(x,y) -> distance, colour(x,y) -> [r,g,b]]. */
function render(size, layers, samples = 4) {
  const out = Buffer.alloc(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0,
        g = 0,
        b = 0,
        a = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const x = (px + (sx + 0.5) / samples) / size;
          const y = (py + (sy + 0.5) / samples) / size;
          let col = [0, 0, 0];
          let alpha = 0;
          for (const [sdf, colour] of layers) {
            if (sdf(x, y) <= 0) {
              col = colour(x, y);
              alpha = 1;
            }
          }
          r += col[0] * alpha;
          g += col[1] * alpha;
          b += col[2] * alpha;
          a += alpha;
        }
      }
      const i = (py * size + px) * 4;
      const n = samples * samples;
      out[i] = a ? Math.round(r / a) : 0;
      out[i + 1] = a ? Math.round(g / a) : 0;
      out[i + 2] = a ? Math.round(b / a) : 0;
      out[i + 3] = Math.round((a / n) * 255);
    }
  }
  return out;
}

const TOP = hex('#5b6cff');
const BOTTOM = hex('#2bb3a3');
const WHITE = [255, 255, 255];

export function appIcon(size) {
  const gradient = (_x, y) => mix(TOP, BOTTOM, y);
  const dot = (cx) => [(x, y) => sdCircle(x, y, cx, 0.46, 0.045), gradient];
  return render(size, [
    [(x, y) => sdRoundRect(x, y, 0.5, 0.5, 0.44, 0.44, 0.2), gradient],
    [(x, y) => bubble(x, y, 0.5, 0.46, 0.27, 0.18), () => WHITE],
    dot(0.38),
    dot(0.5),
    dot(0.62),
  ]);
}

const PRESENCE = { online: hex('#2ecc71'), connecting: hex('#f5a623'), offline: hex('#8e8e93') };
const UNREAD = hex('#ff3b30');

export function trayIcon(size, presence, unread) {
  const layers = [
    [(x, y) => bubble(x, y, 0.44, 0.42, 0.4, 0.28), () => TOP],
    [(x, y) => sdCircle(x, y, 0.78, 0.78, 0.2), () => WHITE],
    [(x, y) => sdCircle(x, y, 0.78, 0.78, 0.15), () => PRESENCE[presence]],
  ];
  if (unread)
    layers.push(
      [(x, y) => sdCircle(x, y, 0.8, 0.2, 0.19), () => WHITE],
      [(x, y) => sdCircle(x, y, 0.8, 0.2, 0.14), () => UNREAD],
    );
  return render(size, layers);
}

// ---- containers -----------------------------------------------------------------------------------
function ico(pngs) {
  const header = Buffer.alloc(6 + pngs.length * 16);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2); // icon
  header.writeUInt16LE(pngs.length, 4);
  let offset = header.length;
  pngs.forEach(([size, png], i) => {
    const e = 6 + i * 16;
    header[e] = size >= 256 ? 0 : size;
    header[e + 1] = size >= 256 ? 0 : size;
    header.writeUInt16LE(1, e + 4); // planes
    header.writeUInt16LE(32, e + 6); // bpp
    header.writeUInt32LE(png.length, e + 8);
    header.writeUInt32LE(offset, e + 12);
    offset += png.length;
  });
  return Buffer.concat([header, ...pngs.map(([, png]) => png)]);
}

const ICNS_TYPES = { 16: 'icp4', 32: 'icp5', 64: 'icp6', 128: 'ic07', 256: 'ic08', 512: 'ic09', 1024: 'ic10' };
function icns(pngs) {
  const entries = pngs.map(([size, png]) => {
    const head = Buffer.alloc(8);
    head.write(ICNS_TYPES[size], 0, 'ascii');
    head.writeUInt32BE(png.length + 8, 4);
    return Buffer.concat([head, png]);
  });
  const body = Buffer.concat(entries);
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'ascii');
  head.writeUInt32BE(body.length + 8, 4);
  return Buffer.concat([head, body]);
}

// ---- main -----------------------------------------------------------------------------------------
export const APP_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024];

function main() {
  mkdirSync(join(outDir, 'png'), { recursive: true });
  mkdirSync(join(outDir, 'tray'), { recursive: true });
  const pngs = new Map();
  for (const size of APP_SIZES) {
    const png = encodePng(size, appIcon(size));
    pngs.set(size, png);
    writeFileSync(join(outDir, 'png', `${size}x${size}.png`), png);
  }
  writeFileSync(join(outDir, 'icon.png'), pngs.get(1024));
  writeFileSync(join(outDir, 'icon.ico'), ico([16, 24, 32, 48, 64, 128, 256].map((s) => [s, pngs.get(s)])));
  writeFileSync(join(outDir, 'icon.icns'), icns([16, 32, 64, 128, 256, 512, 1024].map((s) => [s, pngs.get(s)])));
  for (const presence of Object.keys(PRESENCE)) {
    for (const unread of [false, true]) {
      const name = `tray-${presence}${unread ? '-unread' : ''}`;
      writeFileSync(join(outDir, 'tray', `${name}.png`), encodePng(16, trayIcon(16, presence, unread)));
      writeFileSync(join(outDir, 'tray', `${name}@2x.png`), encodePng(32, trayIcon(32, presence, unread)));
    }
  }
  console.log(`icons written to ${outDir}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
