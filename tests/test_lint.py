"The linter (ruff's pyflakes rules, configured in pyproject.toml) over the package, scripts, bench and tests."
import subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def test_ruff_clean():
    r = subprocess.run([Path(sys.executable).parent/'ruff', 'check', '--no-cache', '--output-format', 'concise', '.'],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, f"ruff found problems (fix them in the notebooks for dico_nb/, then nbdev_export):\n{r.stdout}{r.stderr}"
