#!/usr/bin/env node
// Optional numerical/timing reference: ONNX Runtime (CPU, onnxruntime-node).
// usage: node ort_ref.js run MODEL.onnx INPUT.f32 OUTPUT.f32 [BATCH]   (raw float32 files)
//        node ort_ref.js bench MODEL.onnx BATCH RUNS                    (one intra-op thread)
// Exits 77 when onnxruntime-node is not installed (npm install --ignore-scripts here).
const fs = require('fs');
let ort;
try { ort = require('onnxruntime-node'); } catch (e) { console.error('onnxruntime-node not installed'); process.exit(77); }

async function session(path) {
  return ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: 'all' });
}

// ORT_INPUT_DIMS gives the batch-1 input shape (default 1,3,224,224).
function inputTensor(s, batch, data) {
  return new ort.Tensor('float32', data, [batch, ...global.dims.slice(1)]);
}

async function main() {
  const [mode, model] = process.argv.slice(2);
  const s = await session(model);
  const dimsStr = process.env.ORT_INPUT_DIMS || '1,3,224,224';
  global.dims = dimsStr.split(',').map(Number);
  const per = global.dims.slice(1).reduce((a, b) => a * b, 1);
  if (mode === 'run') {
    const [, , inFile, outFile, b] = process.argv.slice(2);
    const batch = Number(b || 1);
    const buf = fs.readFileSync(inFile);
    const data = new Float32Array(buf.buffer, buf.byteOffset, per * batch);
    const out = await s.run({ [s.inputNames[0]]: inputTensor(s, batch, data) });
    const y = out[s.outputNames[0]].data;
    fs.writeFileSync(outFile, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
  } else if (mode === 'bench') {
    const batch = Number(process.argv[4] || 1), runs = Number(process.argv[5] || 20);
    const data = new Float32Array(per * batch).map((_, i) => (i % 17) * 0.05);
    const feeds = { [s.inputNames[0]]: inputTensor(s, batch, data) };
    await s.run(feeds);
    const t = [];
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      await s.run(feeds);
      t.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    t.sort((a, b) => a - b);
    const q = (p) => t[Math.min(t.length - 1, Math.floor(p * t.length))];
    console.log(JSON.stringify({ batch, runs, min_ms: t[0], median_ms: q(0.5), p99_ms: q(0.99) }));
  } else {
    console.error('usage: ort_ref.js run|bench ...');
    process.exit(2);
  }
}
main().catch((e) => { console.error(String(e)); process.exit(1); });
