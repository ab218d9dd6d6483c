"The whole test suite: every notebook through `nbdev_test`, and the module and notebooks in step."
import os, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NBS = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith(('_', '.')))
os.environ['HF_HUB_OFFLINE'] = '1'

def _run(cmd, cwd, env=None):
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{r.stdout[-4000:]}\n{r.stderr[-8000:]}"
    return r

@pytest.mark.parametrize('nb', NBS, ids=[p.name for p in NBS])
def test_notebook(nb):
    "Run one notebook's tests with `nbdev_test` (cells flagged slow in settings.ini are skipped; the GPU paths are checked by `bench/gpu_check.sh`)."
    _run([BIN/'nbdev_test', '--path', str(nb)], ROOT)

# The notebooks that compare float computations done two ways (their bounds come from `dico_nb.testing.rounding_tol`).
FLOAT_NBS = ['02_logprobs', '02_model', '02b_features', '02c_convert', '03_decoding', '04_reward', '05_losses', '06_evaluate', '07_train']

@pytest.mark.parametrize('nb', FLOAT_NBS)
def test_notebook_as_another_cpu(nb):
    "The float-comparing notebooks again as another CPU computes: no AVX2/AVX-512 kernels (`ATEN_CPU_CAPABILITY=default`), one thread."
    env = dict(os.environ, ATEN_CPU_CAPABILITY='default', OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    _run([BIN/'nbdev_test', '--path', str(ROOT/'nbs'/f'{nb}.ipynb')], ROOT, env)

@pytest.fixture(scope='module')
def fresh_copy(tmp_path_factory):
    "A copy of the notebooks, settings and module in which nbdev may rewrite files."
    d = tmp_path_factory.mktemp('repo')
    shutil.copy(ROOT/'settings.ini', d)
    for sub in ('nbs', 'dico_nb'): shutil.copytree(ROOT/sub, d/sub, ignore=shutil.ignore_patterns('_scratch', '__pycache__', '.ipynb_checkpoints'))
    return d

def _tree(d): return {p.relative_to(d): p.read_bytes() for p in sorted(d.rglob('*')) if p.is_file() and '__pycache__' not in p.parts}

def test_module_is_what_notebooks_export(fresh_copy):
    "`dico_nb/` must equal what `nbdev_export` makes of the notebooks."
    _run([BIN/'nbdev_export'], fresh_copy)
    got, want = _tree(fresh_copy/'dico_nb'), _tree(ROOT/'dico_nb')
    drift = sorted(str(k) for k in set(got) | set(want) if got.get(k) != want.get(k))
    assert not drift, f"dico_nb/ differs from the notebooks' export in {drift}: run nbdev_export and commit"

def test_notebooks_are_clean(fresh_copy):
    "Notebooks are committed as `nbdev_clean` leaves them (no outputs' metadata noise, no execution counts)."
    _run([BIN/'nbdev_clean', '--fname', str(fresh_copy/'nbs')], fresh_copy)
    dirty = [p.name for p in NBS if (fresh_copy/'nbs'/p.name).read_bytes() != p.read_bytes()]
    assert not dirty, f"run nbdev_clean and commit: {dirty}"

def test_outputs_are_current():
    "Every notebook keeps the outputs of its current code: its cells, the `dico_nb` modules they import, the scripts and saved files they name."
    sys.path.insert(0, str(ROOT/'scripts'))
    from build_docs import stale_notebooks
    stale = [p.name for p in stale_notebooks(ROOT/'nbs', ROOT)]
    assert not stale, f"outputs older than the code for {stale}: run `python scripts/run_notebooks.py` and commit"
