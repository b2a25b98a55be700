#!/usr/bin/env node
// tools/ort/bench.js — latency of one ONNX model in onnxruntime-node: 1 intra-op thread, sequential,
// the CPU provider, graph optimisation "all" (QDQ groups fused into QLinear* kernels), the rows of a
// .npy array fed in turn; prints the median microseconds per session.run over the timed runs.
//
//   node tools/ort/bench.js model.onnx --input x.npy [--runs 200] [--budget 3] [--warmup 10]
//        [--level all] [--row-shape 1,C,H,W]
//
// Run i feeds row i % N of x.npy ([N, ...], fed as [1, ...]). The warm-up stops after about a second;
// the timed runs stop at --runs or once --budget seconds have passed (at least 3 runs). Each timed run
// includes making the input tensor and the N-API call: what a Node user of onnxruntime pays per inference.
// Then a second session with onnxruntime's own profiling runs the same inputs, and the median of its
// "model_run" events (the session's run without the Node binding, profiler included) is printed as
// model_run_us, and the mean per run of its operators' kernel times as kernels_us.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const ort = require('onnxruntime-node');
const { readNpy } = require('./npy');

function usage(msg) {
  if (msg) console.error(`bench.js: ${msg}`);
  console.error('usage: node bench.js model.onnx --input x.npy [--runs N] [--budget S] [--warmup N] [--level all]');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { level: 'all', runs: 200, budget: 3, warmup: 10 };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const next = () => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
    if (a === '--input') o.input = next();
    else if (a === '--runs') o.runs = Number(next());
    else if (a === '--budget') o.budget = Number(next());
    else if (a === '--warmup') o.warmup = Number(next());
    else if (a === '--level') o.level = next();
    else if (a === '--row-shape') o.rowShape = next().split(',').map(Number);
    else if (a === '-h' || a === '--help') usage();
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else if (!o.model) o.model = a;
    else usage(`unexpected argument ${a}`);
  }
  if (!o.model || !o.input) usage('a model and --input are required');
  if (!(o.runs >= 1) || !(o.budget > 0) || !(o.warmup >= 0)) usage('--runs >= 1, --budget > 0, --warmup >= 0');
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const x = readNpy(o.input);
  const rows = x.dims[0];
  const rowDims = o.rowShape || [1, ...x.dims.slice(1)];
  const rowSize = rowDims.reduce((a, b) => a * b, 1);
  if (!rows || rowSize * rows !== x.data.length) usage(`rows of ${o.input} do not have the ${rowDims.join('x')} elements`);
  const data = x.data instanceof Float32Array ? x.data : Float32Array.from(x.data, Number);

  const session = await ort.InferenceSession.create(fs.readFileSync(o.model), {
    intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: o.level, executionProviders: ['cpu'] });
  const inputName = session.inputNames[0];
  let sink = 0;
  const infer = async (i) => {
    const r = i % rows;
    const feed = { [inputName]: new ort.Tensor('float32', data.subarray(r * rowSize, (r + 1) * rowSize), rowDims) };
    const result = await session.run(feed);
    sink += Number(result[session.outputNames[0]].data[0]);
  };
  // Warm-up: --warmup runs, cut short after a second (as bench/e2e/engine_timing.cpp does).
  const warm = process.hrtime.bigint();
  for (let i = 0; i < o.warmup; ++i) {
    await infer(i);
    if (Number(process.hrtime.bigint() - warm) / 1e9 > 1) break;
  }
  const us = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < o.runs; ++i) {
    const t0 = process.hrtime.bigint();
    await infer(i);
    const t1 = process.hrtime.bigint();
    us.push(Number(t1 - t0) / 1000);
    if (i >= 2 && Number(t1 - start) / 1e9 > o.budget) break;
  }
  us.sort((a, b) => a - b);
  const n = us.length;
  const median = n % 2 ? us[(n - 1) / 2] : 0.5 * (us[n / 2 - 1] + us[n / 2]);
  if (Number.isNaN(sink)) console.error('bench.js: NaN output');
  const profiled = await profiledModelRun(o, data, rows, rowDims, rowSize, n);
  console.log(`runs ${n} median_us ${median.toFixed(3)} min_us ${us[0].toFixed(3)} ` +
              `model_run_us ${profiled.modelRun.toFixed(3)} kernels_us ${profiled.kernels.toFixed(3)}`);
}

// onnxruntime's session profiling over `runs` runs: the median "model_run" duration and the mean sum
// of the operators' kernel times per run, in microseconds.
async function profiledModelRun(o, data, rows, rowDims, rowSize, runs) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'statiq-ort-profile-'));
  try {
    const session = await ort.InferenceSession.create(fs.readFileSync(o.model), {
      intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
      graphOptimizationLevel: o.level, executionProviders: ['cpu'],
      enableProfiling: true, profileFilePrefix: path.join(dir, 'ort') });
    const inputName = session.inputNames[0];
    for (let i = 0; i < runs + Math.min(o.warmup, 10); ++i) {
      const r = i % rows;
      await session.run({ [inputName]: new ort.Tensor('float32', data.subarray(r * rowSize, (r + 1) * rowSize), rowDims) });
    }
    session.endProfiling();
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
    if (files.length !== 1) throw new Error(`expected one profile in ${dir}, found ${files.length}`);
    const events = JSON.parse(fs.readFileSync(path.join(dir, files[0]), 'utf8'));
    const d = events.filter((e) => e.name === 'model_run').map((e) => Number(e.dur)).slice(-runs).sort((a, b) => a - b);
    if (!d.length) throw new Error('the profile has no model_run event');
    const k = d.length;
    // The operators' own time, per run on average: model_run less the executor's and profiler's share.
    const runsSeen = events.filter((e) => e.name === 'model_run').length;
    const kernels = events.filter((e) => e.cat === 'Node' && String(e.name).endsWith('_kernel_time'))
      .reduce((a, e) => a + Number(e.dur), 0) / runsSeen;
    return { modelRun: k % 2 ? d[(k - 1) / 2] : 0.5 * (d[k / 2 - 1] + d[k / 2]), kernels };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(`bench.js: ${e.message || e}`); process.exit(1); });
