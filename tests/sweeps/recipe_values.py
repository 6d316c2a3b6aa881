#!/usr/bin/env python3
"""Recipe-value sweep (docs/robustness.md): every numeric key of the recipe schema, and a few
list and size keys, set by --set to hostile values; each variant trains apps/recipes/demo.ini for
one epoch of 64 images on data/synth (scripts/demo makes it). Two runs at a time.

    tests/sweeps/recipe_values.py [build/clfer]

Prints every crash, hang or accepted value; exits 1 if any crashed or hung (an accepted value is
for a person to judge: in range, or meaningless)."""
import concurrent.futures as cf, os, re, shutil, subprocess, sys, tempfile

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
cli = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, 'build', 'clfer'))
work = tempfile.mkdtemp(prefix='clfer-recipes-')
keys = re.findall(r'\{"(\w+)", "(\w+)", T_(?:INT|FLOAT)', open(os.path.join(root, 'src/train/recipe.c')).read())
values = ['0', '-1', '-2147483648', '2147483647', '9223372036854775807', '1e30', 'nan', 'inf', '-inf', '1e-30']
cases = [(s, k, v) for s, k in keys if s != 'ipa2lt' and (s, k) != ('train', 'epochs') for v in values]
cases += [('train', 'epochs', v) for v in values if v not in ('2147483647', '9223372036854775807')]  # long runs
cases += [('model', 'input', v) for v in ['0x48x48', '1x-48x48', '1x99999x99999', '1x2147483647x1', 'x', '1x48', '3x1x1']]
cases += [('optim', 'lr_mult', v) for v in ['fc:nan', 'fc:', ':2', 'fc:1e400']]
cases += [('schedule', 'milestones', v) for v in ['-1', 'x', '2147483648', '5,2']]
cases += [('schedule', 'values', v) for v in ['nan', 'x', '1,2,3,4']]
cases += [('data', 'classes', v) for v in ['', ',', 'a,a', ','.join('c%d' % i for i in range(300))]]
base = [cli, 'train', '--recipe', os.path.join(root, 'apps/recipes/demo.ini'),
        '--set', 'data.dir=' + os.path.join(root, 'data/synth'), '--set', 'data.train_limit=64',
        '--set', 'data.eval_limit=16', '--set', 'train.epochs=1', '--set', 'train.batch_size=32', '--quiet', '--no-progress']
env = dict(os.environ, ASAN_OPTIONS='detect_leaks=0')

def run(i):
    s, k, v = cases[i]
    out = os.path.join(work, f'run{i}')
    try:
        r = subprocess.run(base + ['--set', f'{s}.{k}={v}', '--out', out], capture_output=True, text=True, timeout=180, env=env)
        crash = r.returncode < 0 or r.returncode >= 128 or 'Sanitizer' in r.stderr or 'runtime error' in r.stderr
        verdict = 'CRASH' if crash else 'accepted' if r.returncode == 0 else 'error'
        last = (r.stderr.strip().splitlines() or [''])[-1]
    except subprocess.TimeoutExpired:
        verdict, last = 'HANG', ''
    shutil.rmtree(out, ignore_errors=True)
    return verdict, f'{verdict:8} {s}.{k}={v[:60]}: {last[:200]}'

counts = {}
with cf.ThreadPoolExecutor(2) as pool:
    for verdict, line in pool.map(run, range(len(cases))):
        counts[verdict] = counts.get(verdict, 0) + 1
        if verdict != 'error': print(line, flush=True)
print(f'{len(cases)} runs: ' + ', '.join(f'{n} {v}' for v, n in sorted(counts.items())))
sys.exit(1 if counts.get('CRASH') or counts.get('HANG') else 0)
