#!/usr/bin/env python
"Run notebooks and keep their outputs, so the docs pages show what they compute: `python scripts/run_notebooks.py` reruns the stale ones."
import subprocess, sys, time
from pathlib import Path
from fastcore.script import call_parse, Param
sys.path.insert(0, str(Path(__file__).parent))
from build_docs import run_notebook, stale_notebooks

@call_parse
def main(names:Param("notebooks to run (default: every stale one)", str, nargs="*"),
         nbs:str='nbs'): # the notebooks' folder
    "Run the named (or stale) notebooks, each in a process of its own (torch's global state stays in its notebook), each rewritten with its outputs."
    todo = [Path(nbs)/n for n in names] if names else stale_notebooks(Path(nbs))
    if len(todo) == 1:
        t = time.time(); key = run_notebook(todo[0])
        return print(f"{todo[0].name}: {time.time() - t:.0f} s, outputs of {key}", flush=True)
    for p in todo: subprocess.run([sys.executable, __file__, p.name, '--nbs', nbs], check=True)
    if not todo: print("every notebook's outputs are current")
