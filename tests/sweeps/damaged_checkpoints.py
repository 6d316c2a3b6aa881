#!/usr/bin/env python3
"""Damaged-checkpoint sweep (docs/robustness.md): every field of an imported model's checkpoint
header and stored graph, and the zoo description's sizes, set to hostile values; each variant
goes through `clfer predict`. Run it with the CLI of an ASan+UBSan build:

    cmake -B build-asan -DCLFER_SANITIZE='address;undefined' && cmake --build build-asan -j2
    tests/sweeps/damaged_checkpoints.py build-asan/clfer

Prints every crash, hang, or variant that loads; exits 1 if any crashed or hung."""
import copy, json, os, struct, subprocess, sys, tempfile, zlib

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
cli = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, 'build', 'clfer'))
work = tempfile.mkdtemp(prefix='clfer-sweep-')
env = dict(os.environ, ASAN_OPTIONS='detect_leaks=0')
base = os.path.join(work, 'ops.safetensors')
subprocess.run([cli, 'import', os.path.join(root, 'tests/fixtures/onnx/ops.onnx'), '--out', base], check=True,
               capture_output=True, env=env)
img = os.path.join(work, 'img.png')  # a 12x12 gray PNG, the model's input size
raw = b''.join(b'\0' + bytes((x * 20 + y * 7) % 256 for x in range(12)) for y in range(12))
chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
open(img, 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 12, 12, 8, 0, 0, 0, 0)) +
                      chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))

src = open(base, 'rb').read()
n = struct.unpack('<Q', src[:8])[0]
H, data = json.loads(src[8:8 + n]), src[8 + n:]
G = json.loads(H['__metadata__']['clfer.graph'])
cases = []

def graph_case(name, fn):
    g = copy.deepcopy(G); fn(g)
    h = copy.deepcopy(H); h['__metadata__']['clfer.graph'] = json.dumps(g)
    cases.append((name, h))

def header_case(name, fn):
    h = copy.deepcopy(H); fn(h); cases.append((name, h))

bad = [0, -1, -2147483648, 2147483647, 2147483648, 1e300, 65536, 100000, 1.5, "3", None, [], {}]
for li, layer in enumerate(G):
    for key in layer:
        if key in ('name', 'type'): continue
        for b in bad:
            def f(g, li=li, key=key, b=b):
                g[li][key] = [b] * max(1, len(g[li][key])) if isinstance(g[li][key], list) and not isinstance(b, list) else b
            graph_case(f'{layer["name"]}.{key}={b!r}', f)
            if isinstance(layer[key], list) and len(layer[key]) == 2:
                graph_case(f'{layer["name"]}.{key}=[1,{b!r}]', lambda g, li=li, key=key, b=b: g[li].__setitem__(key, [1, b]))
    graph_case(f'del {layer["name"]}', lambda g, li=li: g.pop(li))
    for t in ('add', 'concat', 'input'):
        graph_case(f'type {layer["name"]}={t}', lambda g, li=li, t=t: g[li].__setitem__('type', t))
    graph_case(f'self input {layer["name"]}', lambda g, li=li: g[li].__setitem__('inputs', [g[li]['name']]))
    graph_case(f'dup name {layer["name"]}', lambda g, li=li: g[li].__setitem__('name', g[0]['name']))
    graph_case(f'9 inputs {layer["name"]}', lambda g, li=li: g[li].__setitem__('inputs', ['input'] * 9))
graph_case('graph empty', lambda g: g.clear())
for t in ['conv.weight', 'conv.bias', 'MatMul_9.weight']:
    for key, vals in [('shape', [[], [0], [-1, 3, 3, 3], [4, 3, 3, 3, 1, 1, 1], [2**31, 1], [1e300], ["4"], [4.5, 3, 3, 3]]),
                      ('data_offsets', [[0], [-4, 428], [0, 1e300], [1e20, 1e20 + 432], [0.5, 432.5], [432, 0], ["0", "432"], None]),
                      ('dtype', ['F16', 'F64', 7, None, ''])]:
        for v in vals:
            header_case(f'{t}.{key}={v!r}', lambda h, t=t, key=key, v=v: h[t].__setitem__(key, v))
    header_case(f'{t} not an object', lambda h, t=t: h.__setitem__(t, 5))
for shape in ([2**30, 2**30], [-5], [1] * 9):
    header_case(f'extra tensor {shape}', lambda h, s=shape: h.__setitem__('zzz', {'dtype': 'F32', 'shape': s, 'data_offsets': [0, 4]}))
header_case('metadata not an object', lambda h: h.__setitem__('__metadata__', 'x'))
header_case('graph not JSON', lambda h: h['__metadata__'].__setitem__('clfer.graph', '[{'))
header_case('classes', lambda h: h['__metadata__'].__setitem__('clfer.classes', ',' * 5000))
header_case('many metadata keys', lambda h: [h['__metadata__'].__setitem__(f'k{i}' * 40, 'v') for i in range(100)])
zoo = ['vgg13_ferplus', 'rafdb_basedcnn', 'ohlsen_cnn', 'alexnet', 'alexnet_tv', 'vgg_cnn_m_2048', 'resnet18', 'fer_small']
sizes = [(1, 46340, 46340, 8), (3, 1, 1, 8), (1, 2147483647, 1, 8), (1, 1, 2147483647, 8), (2147483647, 1, 1, 8),
         (1, 48, 48, 2147483647), (1, 48, 48, 0), (1, 48, 48, -5), (1, 1e30, 1, 8), (1.5, 48, 48, 8), (1, 100000, 100000, 8)]
for z in zoo:
    for c, hh, w, k in sizes:
        desc = json.dumps({'zoo': z, 'channels': c, 'height': hh, 'width': w, 'classes': k})
        header_case(f'zoo {z} {c}x{hh}x{w} classes {k}', lambda h, d=desc: h['__metadata__'].__setitem__('clfer.model', d))

failed = 0
path = os.path.join(work, 'variant.safetensors')
for name, h in cases:
    text = json.dumps(h).encode()
    open(path, 'wb').write(struct.pack('<Q', len(text)) + text + data)
    try:
        r = subprocess.run([cli, 'predict', '--model', path, img], capture_output=True, text=True, timeout=120, env=env)
        crash = r.returncode < 0 or r.returncode >= 128 or 'Sanitizer' in r.stderr or 'runtime error' in r.stderr
        verdict = 'CRASH' if crash else 'loads' if r.returncode == 0 else 'error'
        if verdict == 'error' and path not in r.stderr: verdict = 'UNNAMED'  # the error must name the file
        last = (r.stderr.strip().splitlines() or [''])[-1]
    except subprocess.TimeoutExpired:
        verdict, last = 'HANG', ''
    failed += verdict in ('CRASH', 'HANG', 'UNNAMED')
    if verdict != 'error': print(f'{verdict:7} {name}: {last[:200]}')
print(f'{len(cases)} variants, {failed} crashed, hung or unnamed')
sys.exit(1 if failed else 0)
