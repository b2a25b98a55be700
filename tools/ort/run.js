#!/usr/bin/env node
// tools/ort/run.js — the onnxruntime oracle: runs an ONNX model with onnxruntime-node (1 intra-op
// thread) on every row of a .npy array and writes the chosen outputs, stacked over rows, as .npy.
//
//   node tools/ort/run.js model.onnx --input x.npy [--input-name NAME] [--dtype float32]
//        [--outputs a,b,...] (-o out.npy | --out-dir DIR) [--level disabled|basic|extended|all]
//        [--rows N] [--row-shape 1,C,H,W] [--optimized-model FILE]
//
// Row i of x.npy ([N, ...]) is fed as [1, ...] (or --row-shape: [N, 28, 28] pixels as [1, 1, 28, 28]) converted to --dtype (default float32: uint8 pixels
// become 0..255 floats). --outputs names any value of the graph: names that are not graph outputs
// are added as graph outputs first (for per-layer comparison); the default is the graph's outputs.
// With -o exactly one output is written there; with --out-dir each goes to DIR/<name>.npy (characters
// other than [A-Za-z0-9_.-] replaced by _). Each file is [N, ...] (a leading batch 1 dropped).
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');
const { readNpy, writeNpy } = require('./npy');

function usage(msg) {
  if (msg) console.error(`run.js: ${msg}`);
  console.error('usage: node run.js model.onnx --input x.npy [--input-name N] [--dtype float32] ' +
                '[--outputs a,b] (-o out.npy | --out-dir DIR) [--level all] [--rows N]');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { level: 'all', dtype: 'float32', outputs: [] };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const next = () => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
    if (a === '--input') o.input = next();
    else if (a === '--input-name') o.inputName = next();
    else if (a === '--dtype') o.dtype = next();
    else if (a === '--outputs') o.outputs = next().split(',').filter((s) => s.length);
    else if (a === '-o' || a === '--output') o.output = next();
    else if (a === '--out-dir') o.outDir = next();
    else if (a === '--level') o.level = next();
    else if (a === '--rows') o.rows = Number(next());
    else if (a === '--row-shape') o.rowShape = next().split(',').map(Number);
    else if (a === '--optimized-model') o.optimizedModel = next();
    else if (a === '-h' || a === '--help') usage();
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else if (!o.model) o.model = a;
    else usage(`unexpected argument ${a}`);
  }
  if (!o.model || !o.input) usage('a model and --input are required');
  if (!!o.output === !!o.outDir) usage('give exactly one of -o and --out-dir');
  return o;
}

// --- protobuf: appending graph outputs to a serialized ModelProto ------------------------------
// ModelProto.graph is field 7, GraphProto.output field 12, ValueInfoProto.name field 1. The model
// is copied field by field; only the graph's bytes grow, so nothing else needs decoding.
function readVarint(buf, pos) {
  let v = 0, shift = 0, b;
  do {
    if (pos >= buf.length) throw new Error('truncated protobuf varint');
    b = buf[pos++];
    v += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80);
  return [v, pos];
}
function varint(v) {
  const out = [];
  while (v >= 0x80) { out.push((v % 0x80) | 0x80); v = Math.floor(v / 0x80); }
  out.push(v);
  return Buffer.from(out);
}
function lengthDelimited(field, payload) {
  return Buffer.concat([varint(field * 8 + 2), varint(payload.length), payload]);
}
function addGraphOutputs(model, names) {
  const extra = Buffer.concat(names.map((n) => lengthDelimited(12, lengthDelimited(1, Buffer.from(n, 'utf8')))));
  const parts = [];
  let pos = 0, found = false;
  while (pos < model.length) {
    const start = pos;
    let key;
    [key, pos] = readVarint(model, pos);
    const field = Math.floor(key / 8), wire = key % 8;
    if (wire === 0) [, pos] = readVarint(model, pos);
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      let len;
      [len, pos] = readVarint(model, pos);
      if (field === 7) {
        found = true;
        parts.push(lengthDelimited(7, Buffer.concat([model.subarray(pos, pos + len), extra])));
        pos += len;
        continue;
      }
      pos += len;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
    parts.push(model.subarray(start, pos));
  }
  if (!found) throw new Error('the model has no graph');
  return Buffer.concat(parts);
}

// --- conversion ----------------------------------------------------------------------------------
const ARRAYS = { float32: Float32Array, float64: Float64Array, uint8: Uint8Array, int8: Int8Array,
                 int32: Int32Array, int64: BigInt64Array };
function convert(data, type) {
  const T = ARRAYS[type];
  if (!T) usage(`--dtype ${type} is not supported`);
  if (data instanceof T) return data;
  const out = new T(data.length);
  for (let i = 0; i < data.length; ++i) out[i] = type === 'int64' ? BigInt(data[i]) : Number(data[i]);
  return out;
}

function fileName(name) { return name.replace(/[^A-Za-z0-9_.-]/g, '_') + '.npy'; }

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const x = readNpy(o.input);
  if (x.dims.length < 1) usage(`${o.input} has no row axis`);
  const rows = o.rows !== undefined ? Math.min(o.rows, x.dims[0]) : x.dims[0];
  const rowDims = o.rowShape || [1, ...x.dims.slice(1)];
  const rowSize = rowDims.reduce((a, b) => a * b, 1);
  if (rowSize * x.dims[0] !== x.data.length) usage(`rows of ${o.input} do not have the ${rowDims.join('x')} elements of --row-shape`);
  const data = convert(x.data, o.dtype);

  let bytes = fs.readFileSync(o.model);
  const options = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
                    graphOptimizationLevel: o.level, executionProviders: ['cpu'] };
  if (o.optimizedModel) options.optimizedModelFilePath = o.optimizedModel;
  let session = await ort.InferenceSession.create(bytes, options);
  const missing = o.outputs.filter((n) => !session.outputNames.includes(n));
  if (missing.length) {
    bytes = addGraphOutputs(bytes, missing);
    session = await ort.InferenceSession.create(bytes, options);
  }
  const outputs = o.outputs.length ? o.outputs : session.outputNames;
  if (o.output && outputs.length !== 1) usage(`-o writes one output, ${outputs.length} were asked for: use --out-dir`);
  const inputName = o.inputName || session.inputNames[0];

  const collected = outputs.map(() => ({ type: null, dims: null, chunks: [] }));
  for (let r = 0; r < rows; ++r) {
    const feed = { [inputName]: new ort.Tensor(o.dtype, data.subarray(r * rowSize, (r + 1) * rowSize), rowDims) };
    const result = await session.run(feed, outputs);
    outputs.forEach((name, k) => {
      const t = result[name];
      const c = collected[k];
      if (c.dims === null) { c.type = t.type; c.dims = t.dims.slice(); }
      c.chunks.push(t.data);
    });
  }
  if (rows === 0) throw new Error('no rows to run');
  outputs.forEach((name, k) => {
    const c = collected[k];
    const inner = c.dims.length && c.dims[0] === 1 ? c.dims.slice(1) : c.dims;
    const T = c.chunks[0].constructor;
    const all = new T(c.chunks.reduce((a, ch) => a + ch.length, 0));
    let at = 0;
    for (const ch of c.chunks) { all.set(ch, at); at += ch.length; }
    const file = o.output || path.join(o.outDir, fileName(name));
    writeNpy(file, c.type, [rows, ...inner], all);
  });
}

main().catch((e) => { console.error(`run.js: ${e.message || e}`); process.exit(1); });
