"The GPU check keeps working where there is no GPU: `bench/gpu_check.sh --dry-run` runs its code on the CPU at tiny sizes."
import json, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def test_gpu_check_dry_run(tmp_path):
    out = tmp_path/'gpu_check.json'
    env = dict(os.environ, PYTHON=sys.executable, PYTHONDONTWRITEBYTECODE='1', OMP_NUM_THREADS='1', HF_HUB_OFFLINE='1')
    r = subprocess.run(['bash', str(ROOT/'bench/gpu_check.sh'), '--dry-run', '--out', str(out)], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-8000:]
    res = json.loads(out.read_text())
    assert res['dry_run'] and res['cuda_paths']['bf16']['grads_finite']
    assert res['dico']['check']['same_beams'] == 1.0 and res['beams']['compiled']['check']['all'] == 1.0
    assert res['memory']['dico']['growth_vs_xe'] > 0 and set(res['decoder_flops']) == {'beam_search', 'policy_fwd_bwd', 'reference_fwd'}
