"""Writes tiny Llama checkpoints in the Hugging Face layout (quant-core/src/test/resources/hf/).

Independent of the Java code: the folders are assembled here with numpy and struct from the safetensors format
description, and the q/k projections are permuted exactly as llama2.c's export.py (hf_export, permute_original)
does: w.view(dim1, dim2).reshape(n_heads, dim1 // n_heads // 2, 2, dim2).transpose(1, 2).reshape(dim1, dim2).

Every weight W of layer L (in the original, llama.cpp/Meta row order) holds a value that says where it is, so
the Java test can check the un-permuted view element by element against a formula:
  tiny-tied (F32, one file, tie_word_embeddings, no lm_head):
      W[r][c] = (L + 1) * 100000 + KIND * 10000 + r * 100 + c       (embedding / final norm: L = -1)
  tiny-sharded (BF16, two shards + model.safetensors.index.json, own lm_head):
      q and k: W[r][c] = sign * (r * 16 + c + 1), sign = +1 in layer 0, -1 in layer 1 (exact in bf16)
      every other weight: seeded normal values (numpy default_rng(7)) rounded to bf16 (nearest even)
  tiny-tied also holds a SentencePiece tokenizer.model written here field by field (see tokenizer_model)
Run from the repo root: /usr/bin/python3 reference/hf/make_hf_fixture.py
"""
import json, os, struct, sys
import numpy as np

OUT = sys.argv[1] if len(sys.argv) > 1 else 'quant-core/src/test/resources/hf'

# hidden 16, 4 heads of 4, 2 kv heads (kv_dim 8), ffn 24, 2 layers, vocab 32
CFG = dict(hidden_size=16, intermediate_size=24, num_hidden_layers=2, num_attention_heads=4,
           num_key_value_heads=2, vocab_size=32, max_position_embeddings=64, rms_norm_eps=1e-5,
           rope_theta=10000.0, hidden_act='silu', model_type='llama', architectures=['LlamaForCausalLM'])
KINDS = ['attn_norm', 'q', 'k', 'v', 'o', 'ffn_norm', 'gate', 'down', 'up']


def permute_original(w, n_heads, dim1, dim2):
    """llama2.c export.py: original (adjacent-pair RoPE) row order -> Hugging Face (rotate_half) row order."""
    return w.reshape(dim1, dim2).reshape(n_heads, dim1 // n_heads // 2, 2, dim2).transpose(0, 2, 1, 3).reshape(dim1, dim2)


def bf16_bytes(a):
    """float32 -> bf16 with round-to-nearest-even on the bit pattern (values here are exact or finite)."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return r.astype('<u2').tobytes()


def safetensors(tensors, dtype, metadata=None):
    """tensors: list of (name, np.ndarray float32). Header keys sorted, data in list order."""
    header, blobs, off = {}, [], 0
    for name, a in tensors:
        b = a.astype('<f4').tobytes() if dtype == 'F32' else bf16_bytes(a)
        header[name] = {'dtype': dtype, 'shape': list(a.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header['__metadata__'] = metadata
    h = json.dumps(header, sort_keys=True, separators=(',', ':')).encode()
    h += b' ' * ((-len(h)) % 8)
    return struct.pack('<Q', len(h)) + h + b''.join(blobs)


def shapes(c):
    d, ff, kv = c['hidden_size'], c['intermediate_size'], c['hidden_size'] // c['num_attention_heads'] * c['num_key_value_heads']
    return {'attn_norm': (d,), 'q': (d, d), 'k': (kv, d), 'v': (kv, d), 'o': (d, d), 'ffn_norm': (d,),
            'gate': (ff, d), 'down': (d, ff), 'up': (ff, d)}


def hf_state(c, weight):
    """weight(kind, layer, shape) -> array in original row order; returns the HF state dict (ordered)."""
    sh = shapes(c)
    d, nh, nkv = c['hidden_size'], c['num_attention_heads'], c['num_key_value_heads']
    kv = d // nh * nkv
    st = [('model.embed_tokens.weight', weight('embed', -1, (c['vocab_size'], d)))]
    hfname = {'attn_norm': 'input_layernorm', 'q': 'self_attn.q_proj', 'k': 'self_attn.k_proj',
              'v': 'self_attn.v_proj', 'o': 'self_attn.o_proj', 'ffn_norm': 'post_attention_layernorm',
              'gate': 'mlp.gate_proj', 'down': 'mlp.down_proj', 'up': 'mlp.up_proj'}
    for L in range(c['num_hidden_layers']):
        for k in KINDS:
            w = weight(k, L, sh[k])
            if k == 'q':
                w = permute_original(w, nh, d, d)
            elif k == 'k':
                w = permute_original(w, nkv, kv, d)
            st.append((f'model.layers.{L}.{hfname[k]}.weight', w))
    st.append(('model.norm.weight', weight('norm', -1, (d,))))
    return st


def write_folder(path, config, files, index=None):
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, 'config.json'), 'w') as f:
        json.dump(config, f, indent=2, sort_keys=True)
    for name, data in files.items():
        with open(os.path.join(path, name), 'wb') as f:
            f.write(data)
    if index is not None:
        with open(os.path.join(path, 'model.safetensors.index.json'), 'w') as f:
            json.dump(index, f, indent=2, sort_keys=True)


def varint(n):
    out = b''
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, wire, payload):
    """One protobuf field: key varint, then the payload (already encoded for wire types 0 and 5)."""
    key = varint(num << 3 | wire)
    return key + (varint(len(payload)) + payload if wire == 2 else payload)


def tokenizer_model(n):
    """A SentencePiece ModelProto (sentencepiece_model.proto field numbers) with n pieces:
    0 <unk> (type 2 UNKNOWN), 1 <s> and 2 </s> (3 CONTROL), 3 <0x41> (6 BYTE), then u2581 + 'p4', 'p5', ... (1 NORMAL,
    written without the type field, whose default is NORMAL); score of piece i = -i / 4 (exact in float32).
    Extra fields that a reader must skip: trainer_spec input (1, string), vocab_size (4, varint), a fixed64 (99),
    self_test_data (4 of ModelProto)."""
    body = b''
    for i in range(n):
        if i == 0: piece, typ = '<unk>', 2
        elif i == 1: piece, typ = '<s>', 3
        elif i == 2: piece, typ = '</s>', 3
        elif i == 3: piece, typ = '<0x41>', 6
        else: piece, typ = ('\u2581' if i % 2 == 0 else '') + 'p' + str(i), 1
        sp = field(1, 2, piece.encode()) + field(2, 5, struct.pack('<f', -i / 4))
        if typ != 1:
            sp += field(3, 0, varint(typ))
        body += field(1, 2, sp)
    trainer = (field(1, 2, b'corpus.txt') + field(3, 0, varint(2)) + field(4, 0, varint(n)) + field(99, 1, b'\0' * 8)
               + field(40, 0, varint(0)) + field(41, 0, varint(1)) + field(42, 0, varint(2)) + field(43, 0, varint(-1)))
    normalizer = field(1, 2, b'identity') + field(3, 0, varint(1))
    return body + field(2, 2, trainer) + field(3, 2, normalizer) + field(4, 2, field(1, 2, b'x'))


def coded(kind, L, shape):
    k = -1 if kind in ('embed', 'norm') else KINDS.index(kind)
    r = np.arange(shape[0], dtype=np.float64)[:, None] if len(shape) == 2 else np.zeros((1, 1))
    cidx = np.arange(shape[-1], dtype=np.float64)[None, :]
    v = (L + 1) * 100000 + k * 10000 + r * 100 + cidx
    return v.reshape(shape).astype(np.float32)


def main():
    # tiny-tied: F32, single file, tied classifier (no lm_head.weight), as transformers' save_pretrained drops it
    c = dict(CFG, tie_word_embeddings=True)
    write_folder(os.path.join(OUT, 'tiny-tied'), c,
                 {'model.safetensors': safetensors(hf_state(c, coded), 'F32', {'format': 'pt'}),
                  'tokenizer.model': tokenizer_model(c['vocab_size'])})

    # tiny-sharded: BF16, two shards with an index, own lm_head
    rng = np.random.default_rng(7)
    c2 = dict(CFG, tie_word_embeddings=False)

    def w2(kind, L, shape):
        if kind in ('q', 'k'):
            r = np.arange(shape[0])[:, None]
            col = np.arange(shape[1])[None, :]
            return ((1 if L == 0 else -1) * (r * 16 + col + 1)).astype(np.float32)
        return rng.standard_normal(shape).astype(np.float32)
    st = hf_state(c2, w2)
    st.append(('lm_head.weight', rng.standard_normal((c2['vocab_size'], c2['hidden_size'])).astype(np.float32)))
    first = [t for t in st if t[0].startswith('model.layers.0.') or t[0] == 'model.embed_tokens.weight']
    second = [t for t in st if t not in first]
    names = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']
    wm = {n: names[0] for n, _ in first}
    wm.update({n: names[1] for n, _ in second})
    total = sum(a.size * 2 for _, a in st)
    write_folder(os.path.join(OUT, 'tiny-sharded'), c2,
                 {names[0]: safetensors(first, 'BF16', {'format': 'pt'}),
                  names[1]: safetensors(second, 'BF16', {'format': 'pt'})},
                 {'metadata': {'total_size': total}, 'weight_map': dict(sorted(wm.items()))})
    print('wrote', OUT)


if __name__ == '__main__':
    main()
