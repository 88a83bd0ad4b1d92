import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../testing/backends.js';
import { loadSafetensors, saveSafetensors } from './files.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  type RawTensor,
  SafetensorsError,
  withSafetensorsMetadata,
} from './format.js';
import {
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
} from './half.js';
import { tensorsToSafetensors } from './tensors.js';

/** Builds a file by hand, exactly as the format spec describes, to test the reader independently. */
function handMade(header: object, data: Uint8Array, pad = true): Uint8Array {
  let json = new TextEncoder().encode(JSON.stringify(header));
  if (pad && json.length % 8) {
    const p = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('half-precision conversions', () => {
  it('float16 encodes known values exactly', () => {
    expect(float32ToFloat16Bits(1)).toBe(0x3c00);
    expect(float32ToFloat16Bits(-2)).toBe(0xc000);
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff);
    expect(float32ToFloat16Bits(65520)).toBe(0x7c00); // rounds to +Inf
    expect(float32ToFloat16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(float32ToFloat16Bits(2 ** -14)).toBe(0x0400); // smallest normal
    expect(float32ToFloat16Bits(0.1)).toBe(0x2e66);
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(float32ToFloat16Bits(Number.NaN) & 0x7e00).toBe(0x7e00);
    expect(float16BitsToFloat32(0x3555)).toBeCloseTo(0.333251953125, 12);
    expect(float16BitsToFloat32(0xfc00)).toBe(-Infinity);
  });

  it('float16 round-trips every finite half value', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00) continue;
      expect(float32ToFloat16Bits(float16BitsToFloat32(h))).toBe(h === 0x8000 ? 0x8000 : h);
    }
  });

  it('bfloat16 keeps the top 16 bits, rounding to nearest even', () => {
    expect(float32ToBfloat16Bits(1)).toBe(0x3f80);
    expect(float32ToBfloat16Bits(-3.140625)).toBe(0xc049);
    expect(bfloat16BitsToFloat32(0x3f80)).toBe(1);
    expect(float32ToBfloat16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie → even
    expect(float32ToBfloat16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(Number.isNaN(bfloat16BitsToFloat32(float32ToBfloat16Bits(Number.NaN)))).toBe(true);
  });
});

describe('safetensors format', () => {
  it('adds metadata by rebuilding only the header; the tensors decode unchanged', () => {
    const bytes = encodeSafetensors(
      {
        a: { dtype: 'F32', shape: [3], data: Float32Array.from([1, 2, 3]) },
        b: { dtype: 'I32', shape: [1], data: Int32Array.from([7]) },
      },
      { kept: 'yes' },
    );
    const out = decodeSafetensors(withSafetensorsMetadata(bytes, { added: 'x'.repeat(13) }));
    expect(out.metadata).toEqual({ kept: 'yes', added: 'x'.repeat(13) });
    expect(Array.from(out.tensors.a?.data as Float32Array)).toEqual([1, 2, 3]);
    expect(Array.from(out.tensors.b?.data as Int32Array)).toEqual([7]);
  });

  const tensors: Record<string, RawTensor> = {
    'layer.0.weight': { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
    half: { dtype: 'F16', shape: [3], data: new Float32Array([0.5, -1.25, 1024]) },
    brain: { dtype: 'BF16', shape: [2], data: new Float32Array([1, -2.5]) },
    ids: { dtype: 'I64', shape: [3], data: new BigInt64Array([0n, -5n, 2n ** 40n]) },
    counts: { dtype: 'I32', shape: [2], data: new Int32Array([7, -8]) },
    mask: { dtype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) },
    small: { dtype: 'I8', shape: [2], data: new Int8Array([-128, 127]) },
    wide: { dtype: 'F64', shape: [1], data: new Float64Array([Math.PI]) },
    empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
    scalar: { dtype: 'F32', shape: [], data: new Float32Array([3]) },
  };

  it('round-trips every dtype with metadata', () => {
    const bytes = encodeSafetensors(tensors, { format: 'pt', note: 'msmoe' });
    const back = decodeSafetensors(bytes);
    expect(back.metadata).toEqual({ format: 'pt', note: 'msmoe' });
    for (const [name, t] of Object.entries(tensors)) {
      const got = back.tensors[name]!;
      expect(got.dtype).toBe(t.dtype);
      expect(got.shape).toEqual(t.shape);
      expect(Array.from(got.data as ArrayLike<number | bigint>)).toEqual(
        Array.from(t.data as ArrayLike<number | bigint>),
      );
    }
  });

  it('writes the layout of the spec: u64 LE header size, 8-byte aligned space-padded JSON, ordered data', () => {
    const bytes = encodeSafetensors({
      b: tensors.counts!,
      a: tensors['layer.0.weight']!,
      z: tensors.wide!,
    });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    // 8-byte dtypes first, then by name: z (F64), a (F32), b (I32).
    expect(header.z.data_offsets).toEqual([0, 8]);
    expect(header.a).toEqual({ dtype: 'F32', shape: [2, 3], data_offsets: [8, 32] });
    expect(header.b.data_offsets).toEqual([32, 40]);
    expect(bytes.length).toBe(8 + n + 40);
    expect(new Float32Array(bytes.slice(8 + n + 8, 8 + n + 32).buffer)[5]).toBe(6);
  });

  it('reads a hand-made file with an unpadded header', () => {
    const data = new Uint8Array(new Float32Array([1.5, -2]).buffer);
    const file = handMade({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, data, false);
    expect(Array.from(decodeSafetensors(file).tensors.w!.data as Float32Array)).toEqual([1.5, -2]);
  });

  const bad: [string, () => Uint8Array, RegExp][] = [
    ['a file shorter than 8 bytes', () => new Uint8Array(5), /truncated: 5 bytes/],
    [
      'a header longer than the file',
      () => encodeSafetensors(tensors).subarray(0, 40),
      /truncated: header says \d+ header bytes but only 32 follow/,
    ],
    [
      'data cut short',
      () => {
        const b = encodeSafetensors(tensors);
        return b.subarray(0, b.length - 3);
      },
      /truncated|cover/,
    ],
    [
      'a non-JSON header',
      () => {
        const b = new Uint8Array(16);
        new DataView(b.buffer).setBigUint64(0, 8n, true);
        b.set(new TextEncoder().encode('{nope  }'), 8);
        return b;
      },
      /not valid UTF-8 JSON/,
    ],
    [
      'an unknown dtype',
      () => handMade({ w: { dtype: 'F8', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)),
      /tensor "w": dtype "F8" is not one of/,
    ],
    [
      'a size mismatch',
      () => handMade({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)),
      /tensor "w": data_offsets \[0, 8\] hold 8 bytes, F32 \[3\] needs 12/,
    ],
    [
      'overlapping tensors',
      () =>
        handMade(
          {
            a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
            b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
          },
          new Uint8Array(8),
        ),
      /overlap/,
    ],
    [
      'a gap between tensors',
      () => handMade({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)),
      /4 unused bytes/,
    ],
    [
      'trailing bytes',
      () => handMade({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(8)),
      /has 8 bytes but the tensors cover 4/,
    ],
    [
      'a non-string metadata value',
      () => handMade({ __metadata__: { epoch: 3 } }, new Uint8Array(0)),
      /__metadata__.epoch must be a string/,
    ],
    [
      'a huge header length',
      () => {
        const b = new Uint8Array(16);
        new DataView(b.buffer).setBigUint64(0, 2n ** 40n, true);
        return b;
      },
      /exceeds the 100000000-byte limit/,
    ],
  ];
  it.each(bad)('rejects %s with a clear error', (_what, make, message) => {
    expect(() => decodeSafetensors(make())).toThrow(SafetensorsError);
    expect(() => decodeSafetensors(make())).toThrow(message);
  });

  it('refuses to write inconsistent tensors', () => {
    expect(() =>
      encodeSafetensors({ w: { dtype: 'F32', shape: [3], data: new Float32Array(2) } }),
    ).toThrow(/needs 3 values, data has 2/);
    expect(() =>
      encodeSafetensors({ w: { dtype: 'I32', shape: [2], data: new Float32Array(2) } }),
    ).toThrow(/needs a Int32Array/);
    expect(() => encodeSafetensors({ __metadata__: tensors.scalar! })).toThrow(/reserved/);
  });
});

describe('safetensors files and tfjs tensors', () => {
  let dir: string;
  beforeAll(async () => {
    await useBackend('cpu');
    dir = mkdtempSync(join(tmpdir(), 'msmoe-st-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('saves atomically and loads back tensors and metadata', async () => {
    const W = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const idx = tf.tensor1d([3, 1], 'int32');
    const path = join(dir, 'model.safetensors');
    await saveSafetensors(path, { W, idx }, { metadata: { step: '10' } });
    expect(readdirSync(dir)).toEqual(['model.safetensors']); // no temp file left
    const { tensors, metadata } = await loadSafetensors(path);
    expect(metadata).toEqual({ step: '10' });
    expect(tensors.W!.arraySync()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(tensors.idx!.dtype).toBe('int32');
    tf.dispose([W, idx, ...Object.values(tensors)]);
  });

  it('stores floats as F16 or BF16 on request', async () => {
    const t = tf.tensor1d([0.1, 1000.5, -3]);
    for (const floatDtype of ['F16', 'BF16'] as const) {
      const file = decodeSafetensors(await tensorsToSafetensors({ t }, { floatDtype }));
      expect(file.tensors.t!.dtype).toBe(floatDtype);
      const got = Array.from(file.tensors.t!.data as Float32Array);
      got.forEach((v, i) => {
        expect(Math.abs(v - [0.1, 1000.5, -3][i]!)).toBeLessThan(floatDtype === 'F16' ? 0.5 : 4);
      });
    }
    t.dispose();
  });

  it('names the file when it is truncated on disk', async () => {
    const path = join(dir, 'broken.safetensors');
    const W = tf.ones([64]);
    await saveSafetensors(path, { W });
    const full = readFileSync(path);
    writeFileSync(path, full.subarray(0, full.length - 10));
    await expect(loadSafetensors(path)).rejects.toThrow(
      new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: file is truncated`),
    );
    W.dispose();
  });

  it('rejects I64 values that do not fit in int32 when converting to tfjs', async () => {
    const path = join(dir, 'big.safetensors');
    writeFileSync(
      path,
      encodeSafetensors({ i: { dtype: 'I64', shape: [1], data: new BigInt64Array([2n ** 33n]) } }),
    );
    await expect(loadSafetensors(path)).rejects.toThrow(
      /I64 value 8589934592 at index 0 does not fit in int32/,
    );
  });
});

// Cross-language check: a reader and writer in Python, written from the format spec with the
// standard library only (the `safetensors` wheel is not installable offline), reads our file and
// writes one for us.
const python = spawnSync('python3', ['-c', 'import struct, json'], { encoding: 'utf8' });
const describePython = python.status === 0 ? describe : describe.skip;
describePython('interoperability with Python', () => {
  const script = `
import json, struct, sys
FMT = {'F32': ('f', 4), 'F16': ('e', 2), 'I64': ('q', 8), 'I32': ('i', 4), 'BOOL': ('?', 1)}
def read(path):
    raw = open(path, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        b, end = e['data_offsets']
        buf = data[b:end]
        if e['dtype'] == 'BF16':
            vals = [struct.unpack('<f', struct.pack('<I', h << 16))[0] for h in struct.unpack('<%dH' % (len(buf) // 2), buf)]
        else:
            code, size = FMT[e['dtype']]
            vals = list(struct.unpack('<%d%s' % (len(buf) // size, code), buf))
        vals = [float(v) for v in vals]
        for dim in reversed(e['shape'][1:]):
            vals = [vals[i:i + dim] for i in range(0, len(vals), dim)]
        out[name] = vals
    return out, header.get('__metadata__', {})
if sys.argv[1] == 'read':
    print(json.dumps(read(sys.argv[2])))
else:
    w = struct.pack('<6f', *[i / 4 for i in range(6)])
    h = struct.pack('<2e', 1.5, -0.25)
    header = {'w': {'dtype': 'F32', 'shape': [2, 3], 'data_offsets': [0, 24]},
              'h': {'dtype': 'F16', 'shape': [2], 'data_offsets': [24, 28]},
              '__metadata__': {'format': 'pt'}}
    hb = json.dumps(header).encode()
    open(sys.argv[2], 'wb').write(struct.pack('<Q', len(hb)) + hb + w + h)
`;
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'msmoe-py-'));
    writeFileSync(join(dir, 'st.py'), script);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('Python reads what we write (F32, F16, BF16, I64, I32, BOOL)', () => {
    const path = join(dir, 'ours.safetensors');
    writeFileSync(
      path,
      encodeSafetensors(
        {
          f: { dtype: 'F32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4.5]) },
          h: { dtype: 'F16', shape: [2], data: new Float32Array([0.5, -8]) },
          b: { dtype: 'BF16', shape: [1], data: new Float32Array([-2.5]) },
          l: { dtype: 'I64', shape: [2], data: new BigInt64Array([-1n, 12345678901n]) },
          i: { dtype: 'I32', shape: [1], data: new Int32Array([42]) },
          m: { dtype: 'BOOL', shape: [2], data: new Uint8Array([0, 1]) },
        },
        { format: 'pt' },
      ),
    );
    const [tensors, metadata] = JSON.parse(
      execFileSync('python3', [join(dir, 'st.py'), 'read', path], { encoding: 'utf8' }),
    );
    expect(metadata).toEqual({ format: 'pt' });
    expect(tensors).toEqual({
      f: [
        [1, 2],
        [3, 4.5],
      ],
      h: [0.5, -8],
      b: [-2.5],
      l: [-1, 12345678901],
      i: [42],
      m: [0, 1],
    });
  });

  it('we read what Python writes', () => {
    const path = join(dir, 'theirs.safetensors');
    execFileSync('python3', [join(dir, 'st.py'), 'write', path]);
    const file = decodeSafetensors(new Uint8Array(readFileSync(path)));
    expect(Array.from(file.tensors.w!.data as Float32Array)).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
    expect(Array.from(file.tensors.h!.data as Float32Array)).toEqual([1.5, -0.25]);
    expect(file.metadata).toEqual({ format: 'pt' });
  });
});
