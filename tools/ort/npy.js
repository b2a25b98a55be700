// tools/ort/npy.js — a minimal .npy (NumPy format 1.0/2.0/3.0) reader and writer for the oracle:
// little-endian numeric arrays in C order, the dtypes ONNX models exchange with statiq.
'use strict';
const fs = require('fs');

// descr -> [typed array constructor, onnxruntime tensor type]
const DTYPES = {
  '<f4': [Float32Array, 'float32'], '<f8': [Float64Array, 'float64'],
  '|u1': [Uint8Array, 'uint8'], '|i1': [Int8Array, 'int8'], '<u1': [Uint8Array, 'uint8'], '<i1': [Int8Array, 'int8'],
  '<i4': [Int32Array, 'int32'], '<i8': [BigInt64Array, 'int64'], '|b1': [Uint8Array, 'bool'],
};
const DESCR_OF = { float32: '<f4', float64: '<f8', uint8: '|u1', int8: '|i1', int32: '<i4', int64: '<i8', bool: '|b1' };

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const order = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !order || !shape) throw new Error(`${file}: unreadable .npy header ${header}`);
  if (order[1] === 'True') throw new Error(`${file}: Fortran-order arrays are not supported`);
  const dt = DTYPES[descr[1]];
  if (!dt) throw new Error(`${file}: dtype ${descr[1]} is not supported`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  const bytes = count * dt[0].BYTES_PER_ELEMENT;
  if (buf.length - offset < bytes) throw new Error(`${file}: truncated (${count} elements expected)`);
  const copy = new Uint8Array(bytes);
  copy.set(buf.subarray(offset, offset + bytes));  // aligned copy for the typed array
  return { type: dt[1], dims, data: new dt[0](copy.buffer) };
}

function writeNpy(file, type, dims, data) {
  const descr = DESCR_OF[type];
  if (!descr) throw new Error(`cannot write dtype ${type} to .npy`);
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1; head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}

module.exports = { readNpy, writeNpy, DTYPES };
