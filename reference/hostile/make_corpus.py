"""Writes the hostile-file corpus for quantkit's readers (quant-core/src/test/resources/hostile/).

Each file is small and broken in one way; expected.tsv lists, per file, a fragment of the one-line message the
reader must give. Run from the repo root: /usr/bin/python3 reference/hostile/make_corpus.py
Independent of the Java code: files are assembled here with struct from the format descriptions.
"""
import json, os, struct, sys

OUT = sys.argv[1] if len(sys.argv) > 1 else 'quant-core/src/test/resources/hostile'
os.makedirs(OUT, exist_ok=True)
expected = []

def put(name, data, fragment):
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)
    expected.append((name, fragment))

# ---------------------------------------------------------------- GGUF
def s(x):
    b = x.encode('utf-8') if isinstance(x, str) else x
    return struct.pack('<Q', len(b)) + b

def kv_u32(k, v): return s(k) + struct.pack('<II', 4, v)
def kv_str(k, v): return s(k) + struct.pack('<I', 8) + s(v)

def tinfo(name, dims, typ, off):
    return s(name) + struct.pack('<I', len(dims)) + b''.join(struct.pack('<Q', d) for d in dims) + struct.pack('<IQ', typ, off)

def gguf(kvs, infos, data, n_t=None, n_kv=None, version=3, align=32):
    head = b'GGUF' + struct.pack('<IQQ', version, len(infos) if n_t is None else n_t, len(kvs) if n_kv is None else n_kv)
    body = head + b''.join(kvs) + b''.join(infos)
    pad = (-len(body)) % align
    return body + b'\0' * pad + data

KVS = [kv_str('general.architecture', 'llama'), kv_u32('llama.block_count', 1)]
INFOS = [tinfo('a', [4], 0, 0), tinfo('b', [8, 2], 0, 32)]
DATA = struct.pack('<4f', 1, 2, 3, 4) + b'\0' * 16 + struct.pack('<16f', *range(16))
good = gguf(KVS, INFOS, DATA)
with open(os.path.join(OUT, 'good.gguf'), 'wb') as f:
    f.write(good)

hdr_end = len(b'GGUF') + 4 + 16
kv_end = hdr_end + len(KVS[0]) + len(KVS[1])
info_end = kv_end + len(INFOS[0]) + len(INFOS[1])
put('gguf-truncated-magic.gguf', good[:2], 'GGUF')
put('gguf-truncated-version.gguf', good[:6], 'inside version')
put('gguf-truncated-counts.gguf', good[:12], 'inside tensor_count')
put('gguf-truncated-in-key.gguf', good[:hdr_end + 10], 'too short')
put('gguf-truncated-in-kv.gguf', good[:kv_end - 2], 'too short to hold')
put('gguf-truncated-in-tensor-info.gguf', good[:info_end - 3], 'file ends')
put('gguf-truncated-before-data.gguf', good[:info_end + 1], 'before the data section')
put('gguf-truncated-in-data.gguf', good[:-5], 'runs past the end')
put('gguf-bad-version.gguf', gguf(KVS, INFOS, DATA, version=4), 'GGUF version 4 is not supported')
put('gguf-1e12-tensors.gguf', gguf(KVS, INFOS, DATA, n_t=10**12), 'tensor_count (1000000000000) exceeds the maximum')
put('gguf-2e63-kvs.gguf', gguf(KVS, INFOS, DATA, n_kv=2**63), 'metadata_kv_count (9223372036854775808) exceeds the maximum')
put('gguf-claims-many-tensors.gguf', gguf(KVS, INFOS, DATA, n_t=100000), 'too short to hold')
put('gguf-key-length-2e63.gguf', gguf([struct.pack('<Q', 2**63) + b'k' + struct.pack('<II', 4, 1)], [], b''), 'exceeds the maximum')
deep = s('deep') + struct.pack('<I', 9)
for _ in range(100):
    deep += struct.pack('<IQ', 9, 1)
deep += struct.pack('<IQ', 4, 0)
put('gguf-nested-arrays-100.gguf', gguf([deep], [], b''), 'array nesting depth')
put('gguf-array-1e12-elements.gguf', gguf([s('arr') + struct.pack('<IIQ', 9, 0, 10**12)], [], b''), 'exceeds the maximum')
put('gguf-array-claims-more-than-file.gguf', gguf([s('arr') + struct.pack('<IIQ', 9, 5, 1000) + b'\0' * 40], [], b''), 'only')
put('gguf-unknown-value-type.gguf', gguf([s('x') + struct.pack('<II', 77, 0)], [], b''), 'unknown value type 77')
put('gguf-bool-2.gguf', gguf([s('x') + struct.pack('<IB', 7, 2)], [], b''), 'BOOL with byte value 2')
put('gguf-duplicate-key.gguf', gguf([kv_u32('x', 1), kv_u32('x', 2)], [], b''), "'x' appears twice")
put('gguf-non-utf8-key.gguf', gguf([s(b'k\xff\xfe') + struct.pack('<II', 4, 1)], [], b''), 'not valid UTF-8')
put('gguf-non-utf8-name.gguf', gguf(KVS, [tinfo(b'a\xc3', [4], 0, 0), INFOS[1]], DATA), 'not valid UTF-8')
put('gguf-duplicate-tensor.gguf', gguf(KVS, [INFOS[0], tinfo('a', [8, 2], 0, 32)], DATA), "'a' appears twice")
put('gguf-offset-past-end.gguf', gguf(KVS, [INFOS[0], tinfo('b', [8, 2], 0, 1 << 40)], DATA), 'runs past the end')
put('gguf-misaligned-offset.gguf', gguf(KVS, [INFOS[0], tinfo('b', [8, 2], 0, 20)], DATA), 'not a multiple of the alignment')
put('gguf-overlapping-tensors.gguf', gguf(KVS, [tinfo('a', [16], 0, 0), tinfo('b', [8, 2], 0, 32)], DATA), 'overlap')
put('gguf-removed-type.gguf', gguf(KVS, [tinfo('a', [32], 4, 0)], DATA), 'unknown or removed ggml type 4')
put('gguf-unknown-type.gguf', gguf(KVS, [tinfo('a', [4], 1000, 0)], DATA), 'unknown or removed ggml type 1000')
put('gguf-zero-dims.gguf', gguf(KVS, [tinfo('a', [], 0, 0)], DATA), 'has 0 dimensions')
put('gguf-five-dims.gguf', gguf(KVS, [tinfo('a', [1, 1, 1, 1, 1], 0, 0)], DATA), 'has 5 dimensions')
put('gguf-dim-2e63.gguf', gguf(KVS, [tinfo('a', [2**63], 0, 0)], DATA), 'exceeds the maximum')
put('gguf-numel-overflow.gguf', gguf(KVS, [tinfo('a', [2**40, 2**40], 0, 0)], DATA), 'too large')
put('gguf-row-not-block-multiple.gguf', gguf(KVS, [tinfo('a', [33], 2, 0)], DATA), 'not a multiple of the Q4_0 block size')
put('gguf-bad-alignment.gguf', gguf([kv_u32('general.alignment', 3)], INFOS, DATA), 'must be a power of two')
put('gguf-alignment-wrong-type.gguf', gguf([kv_str('general.alignment', '32')], INFOS, DATA), 'must be a UINT32')
put('gguf-shape-data-mismatch.gguf', gguf(KVS, [INFOS[0], tinfo('b', [8, 3], 0, 32)], DATA), 'runs past the end')

# ---------------------------------------------------------------- safetensors
def st(header, data=b'', raw=None, length=None):
    h = raw if raw is not None else json.dumps(header, separators=(',', ':')).encode()
    return struct.pack('<Q', len(h) if length is None else length) + h + data

F = {'dtype': 'F32', 'shape': [2], 'data_offsets': [0, 8]}
D8 = struct.pack('<2f', 1, 2)
put('st-truncated-length.safetensors', b'\x10\0\0', 'ends inside the 8-byte header length')
put('st-header-2e63.safetensors', st(None, raw=b'{}', length=2**63), 'header length (9223372036854775808) exceeds the maximum')
put('st-header-past-end.safetensors', st(None, raw=b'{"a":1}', length=1000), 'runs past the end of the file')
put('st-header-tiny.safetensors', st(None, raw=b'{', length=1), 'too small')
put('st-not-json.safetensors', st(None, raw=b'{"a": [1, 2'), 'not valid JSON')
put('st-not-object.safetensors', st(None, raw=b'[1,2,3]  '), 'not a JSON object')
put('st-truncated-data.safetensors', st({'a': F}, D8[:5]), 'run past the end of the data')
put('st-byte-count-mismatch.safetensors', st({'a': {'dtype': 'F32', 'shape': [3], 'data_offsets': [0, 8]}}, D8), 'span 8')
put('st-dtype-mismatch.safetensors', st({'a': {'dtype': 'F64', 'shape': [2], 'data_offsets': [0, 8]}}, D8), 'span 8')
put('st-unknown-dtype.safetensors', st({'a': {'dtype': 'F128', 'shape': [2], 'data_offsets': [0, 8]}}, D8), "unsupported dtype 'F128'")
put('st-overlap.safetensors', st({'a': F, 'b': {'dtype': 'F32', 'shape': [1], 'data_offsets': [4, 8]}}, D8), 'overlap')
put('st-hole.safetensors', st({'a': {'dtype': 'F32', 'shape': [1], 'data_offsets': [4, 8]}}, D8), 'unused bytes')
put('st-trailing-bytes.safetensors', st({'a': F}, D8 + b'xx'), 'tensors cover 8 bytes')
put('st-duplicate-name.safetensors', st(None, D8, raw=b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'), "Duplicate")
put('st-non-utf8-name.safetensors', st(None, D8, raw=b'{"a\xff":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'), 'not valid JSON')
put('st-negative-shape.safetensors', st({'a': {'dtype': 'F32', 'shape': [-2], 'data_offsets': [0, 8]}}, D8), 'is not a size')
put('st-shape-overflow.safetensors', st({'a': {'dtype': 'F32', 'shape': [2**40, 2**40], 'data_offsets': [0, 8]}}, D8), 'too large')
put('st-1e12-elements.safetensors', st({'a': {'dtype': 'U8', 'shape': [10**12], 'data_offsets': [0, 10**12]}}, D8), 'run past the end')
put('st-offsets-reversed.safetensors', st({'a': {'dtype': 'F32', 'shape': [0], 'data_offsets': [8, 0]}}, D8), 'end before they begin')
put('st-offsets-huge.safetensors', st(None, D8, raw=b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,99999999999999999999999]}}'), 'not an offset')
put('st-deep-json.safetensors', st(None, raw=b'{"a":' + b'[' * 5000 + b']' * 5000 + b'}'), 'not valid JSON')
put('st-metadata-not-string.safetensors', st({'__metadata__': {'k': 1}, 'a': F}, D8), "value of 'k' is not a string")
put('st-unknown-field.safetensors', st({'a': {'dtype': 'F32', 'shape': [2], 'data_offsets': [0, 8], 'x': 1}}, D8), "unknown field 'x'")
put('st-entry-not-object.safetensors', st({'a': 5}, b''), "entry 'a' is not a JSON object")
put('st-f4-odd-count.safetensors', st({'a': {'dtype': 'F4', 'shape': [3], 'data_offsets': [0, 2]}}, b'\x21\x43'), 'not a whole number of bytes')
put('st-f6-odd-count.safetensors', st({'a': {'dtype': 'F6_E2M3', 'shape': [2, 1], 'data_offsets': [0, 2]}}, b'\x21\x43'), '2 F6_E2M3 elements of 6 bits')
put('st-f4-byte-count.safetensors', st({'a': {'dtype': 'F4', 'shape': [4], 'data_offsets': [0, 4]}}, b'\x21\x43\x65\x07'), 'F4[4] = 2 bytes but data_offsets [0, 4] span 4')
put('st-f6-byte-count.safetensors', st({'a': {'dtype': 'F6_E3M2', 'shape': [4], 'data_offsets': [0, 4]}}, b'\x21\x43\x65\x07'), '= 3 bytes but data_offsets [0, 4] span 4')
put('st-f4-1e12-elements.safetensors', st({'a': {'dtype': 'F4', 'shape': [2 * 10**12], 'data_offsets': [0, 10**12]}}, D8), 'run past the end')
put('st-quantkit-missing-array.safetensors', st({'__metadata__': {'quantkit.format': '1', 'quantkit.tensor.w': '{"scheme":"q4_0","shape":[1,32],"arrays":[["blocks","nope"]]}'}, 'a': F}, D8), "'nope', which is not in the file")
put('st-quantkit-bad-scheme.safetensors', st({'__metadata__': {'quantkit.format': '1', 'quantkit.tensor.a': '{"scheme":"q9_9","shape":[2],"arrays":[["blocks","a"]]}'}, 'a': F}, D8), "unknown scheme 'q9_9'")
put('st-quantkit-wrong-arrays.safetensors', st({'__metadata__': {'quantkit.format': '1', 'quantkit.tensor.a': '{"scheme":"q4_0","shape":[1,32],"arrays":[["blocks","a"]]}'}, 'a': F}, D8), 'cannot be rebuilt')
put('st-quantkit-future-version.safetensors', st({'__metadata__': {'quantkit.format': '99'}, 'a': F}, D8), 'not a layout version')

# ---------------------------------------------------------------- llama2.c
def l2c(h, nfloats):
    return struct.pack('<7i', *h) + b'\0' * (4 * nfloats)
put('l2c-header-only.bin', struct.pack('<7i', 8, 16, 1, 2, 2, 10, 4), 'needs exactly')
put('l2c-short-header.bin', struct.pack('<5i', 8, 16, 1, 2, 2), 'shorter than the 28-byte llama2.c header')
put('l2c-negative-dim.bin', l2c([-8, 16, 1, 2, 2, 10, 4], 10), 'dim (-8) must be positive')
put('l2c-huge-dim.bin', l2c([1 << 30, 16, 1, 2, 2, 10, 4], 10), 'exceeds the maximum')
put('l2c-kv-heads.bin', l2c([8, 16, 1, 2, 3, 10, 4], 10), 'does not divide n_heads')
# dim 8, hidden 16, 1 layer, 2 heads, 2 kv, vocab 10, seq 4: 80 + 16+128+128+16*3*... -> compute below
d, hd, L, nh, nkv, V, T = 8, 16, 1, 2, 2, 10, 4
kv = d // nh * nkv
n = V * d + L * (2 * d + 2 * d * d + 2 * kv * d + 3 * hd * d) + d + T * (d // nh)
put('l2c-one-float-extra.bin', l2c([d, hd, L, nh, nkv, V, T], n + 1), 'needs exactly')

# ---------------------------------------------------------------- Hugging Face Llama folders (config.json + safetensors)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'hf'))
import make_hf_fixture as hf
import numpy as np

def put_dir(name, config, tensors, fragment, raw_config=None):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'config.json'), 'w') as f:
        f.write(raw_config if raw_config is not None else json.dumps(config, sort_keys=True))
    with open(os.path.join(d, 'model.safetensors'), 'wb') as f:
        f.write(hf.safetensors(tensors, 'F32'))
    expected.append((name, fragment))

HFC = dict(hf.CFG, hidden_size=4, intermediate_size=4, num_attention_heads=2, num_key_value_heads=1, vocab_size=4,
           tie_word_embeddings=True)
HFT = hf.hf_state(HFC, lambda kind, layer, shape: np.zeros(shape, dtype=np.float32))
def hf_without(key): return {k: v for k, v in HFC.items() if k != key}
put_dir('hf-absurd-size', dict(HFC, hidden_size=10**12), HFT, 'config.json: hidden_size (1000000000000) exceeds the maximum')
put_dir('hf-absurd-vocab', dict(HFC, vocab_size=2**62), HFT, 'vocab_size (4611686018427387904) exceeds the maximum')
put_dir('hf-missing-layers', hf_without('num_hidden_layers'), HFT, 'config.json: has no num_hidden_layers')
put_dir('hf-string-size', dict(HFC, hidden_size='16'), HFT, 'hidden_size ("16") is not an integer')
put_dir('hf-negative-heads', dict(HFC, num_attention_heads=-4), HFT, 'num_attention_heads (-4) must be positive')
put_dir('hf-kv-heads', dict(HFC, num_key_value_heads=3), HFT, 'num_key_value_heads (3) does not divide')
put_dir('hf-rope-scaling', dict(HFC, rope_scaling={'rope_type': 'llama3', 'factor': 8.0}), HFT, 'rope_scaling')
put_dir('hf-not-json', None, HFT, 'config.json: not valid JSON', raw_config='{"model_type": "llama", ')
put_dir('hf-shape-mismatch', HFC, [(n, np.zeros((4, 2), np.float32)) if n.endswith('0.self_attn.q_proj.weight') else (n, a) for n, a in HFT],
        "tensor 'model.layers.0.self_attn.q_proj.weight' has shape [4, 2] but config.json implies [4, 4]")
put_dir('hf-missing-tensor', HFC, [t for t in HFT if t[0] != 'model.norm.weight'], "has no tensor 'model.norm.weight'")
put_dir('hf-unknown-tensor', HFC, HFT + [('model.layers.0.self_attn.q_proj.bias', np.zeros(4, np.float32))],
        "'model.layers.0.self_attn.q_proj.bias' is not part of a Llama model")
put_dir('hf-layer-out-of-range', HFC, HFT + [('model.layers.7.mlp.up_proj.weight', np.zeros((4, 4), np.float32))],
        'is in layer 7 but config.json has 2 layers')
put_dir('hf-untied-no-lm-head', dict(HFC, tie_word_embeddings=False), HFT, 'does not set tie_word_embeddings')

# ---------------------------------------------------------------- pickle / PyTorch
put('torch-zip.pt', b'PK\x03\x04' + b'\0' * 60, 'zip archive')
put('pickle-proto2.bin', b'\x80\x02}q\x00(X\x01\x00\x00\x00aq\x01K\x01u.', 'pickle stream (protocol 2)')
put('legacy.pth', b'\x80\x04\x95\x00', 'refusing to read')
put('empty.gguf', b'', 'not a GGUF file')
put('garbage.dat', b'hello world, not a checkpoint', 'unrecognised first bytes')

with open(os.path.join(OUT, 'expected.tsv'), 'w') as f:
    f.write('# file\tfragment of the BadFileException message (generated by reference/hostile/make_corpus.py)\n')
    for name, frag in expected:
        f.write(name + '\t' + frag + '\n')
print(len(expected), 'hostile files')
