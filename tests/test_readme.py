"The README's commands parse as written: every `scripts/*.py` invocation in its shell blocks, arguments included."
import importlib.util, re, shlex
from pathlib import Path
import pytest
from fastcore.script import anno_parser

ROOT = Path(__file__).resolve().parents[1]
PRESETS = {'train_xe.py': 'TrainConfig', 'train_dico.py': 'dico_config', 'train_scst.py': 'scst_config'}  # config_cli scripts

def readme_commands()->list:
    "`(script, args)` of every `scripts/*.py` call in the README's ```sh blocks (continued lines joined, comments dropped)."
    out = []
    for block in re.findall(r'```sh\n(.*?)```', (ROOT/'README.md').read_text(), re.S):
        for line in block.replace('\\\n', ' ').splitlines():
            if line.strip().startswith('#'): continue
            for part in line.split('&&'):
                words = shlex.split(part)
                i = next((j for j, w in enumerate(words) if w.startswith('scripts/') and w.endswith('.py')), None)
                if i is not None: out.append((words[i], words[i + 1:]))
    return out

def test_readme_has_commands():
    names = {Path(s).name for s, _ in readme_commands()}
    assert {'train_dico.py', 'train_xe.py', 'prepare_coco.py', 'evaluate.py', 'caption.py'} <= names, names

@pytest.mark.parametrize('script,args', readme_commands(), ids=lambda v: v if isinstance(v, str) else ' '.join(v)[:40])
def test_readme_command_parses(script, args):
    "The arguments parse (argparse exits with code 2 on a bad one); nothing runs."
    name = Path(script).name
    if name == 'train_dico.py' and args[:1] in (['--clips'], ['--level']):   # the shapes main job's flags
        flags = {'--clips': ('shipped', 'train'), '--level': ('easy', 'hard')}
        assert len(args) % 2 == 0 and all(f in flags and v in flags[f] for f, v in zip(args[::2], args[1::2])), args
        return
    if name in PRESETS:
        import dico_nb.train as t
        if args: t.config_cli(getattr(t, PRESETS[name])(), args)
        return  # (with no arguments train_dico.py runs the shapes job, which the pipeline notebook runs at toy size)
    spec = importlib.util.spec_from_file_location(f'readme_{Path(script).stem}', ROOT/script)
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)   # call_parse runs nothing on import
    anno_parser(mod.main).parse_args(args)
