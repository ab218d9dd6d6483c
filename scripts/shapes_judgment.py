#!/usr/bin/env python
"How well the shapes evaluator judges (see `nbs/04b_shapes_clip.ipynb`): a judgment set of captioners' captions scored by the checker and by every metric, and the evaluator's hackability."
#   python scripts/shapes_judgment.py runs/shapes-seed0/xe_early/best runs/shapes-seed0/xe/best [--level hard]
#   python scripts/shapes_judgment.py 'runs/shapes_hard-seed{seed}/xe_early/best' 'runs/shapes_hard-seed{seed}/xe/best' --level hard --seeds 0,1,2
from pathlib import Path
from fastcore.script import call_parse
from dico_nb.shapes_clip import judgment_study, judgment_seeds
from dico_nb.shapes import level_name

@call_parse
def main(xe_early:str,                # an early XE checkpoint (a weak captioner); with --seeds, `{seed}` marks the seed in the path
         xe_late:str,                 # the final XE checkpoint
         data_dir:str='data',         # the main job's data folder (shards and registry)
         results:str='nbs/results',   # where shapes_judgment.json / .md go
         n:int=500,                   # test images
         seed:int=0,
         seeds:str='',                # comma-separated seeds: one study each (in results/seed{s}/), summed up in {stem}_seeds.json / .md
         stem:str=None,               # with --seeds: the summary's file stem (default: shapes_judgment or shapes_hard_judgment)
         trunk:str=None,              # trunk CLIP (default: weights/shapes_trunk.safetensors)
         evaluator:str=None,          # evaluator CLIP (default: the level's in weights/)
         level:str='easy'):           # 'easy' or 'hard': the level's test split; results in shapes_judgment.* or shapes_hard_judgment.*
    captioners = {'XE early': xe_early, 'XE late': xe_late}
    if seeds:
        judgment_seeds(data_dir, captioners, results, [int(s) for s in seeds.split(',')], n, trunk, evaluator, level, stem)
        return print(Path(results, f"{stem or level_name(level) + '_judgment'}_seeds.md").read_text())
    judgment_study(data_dir, captioners, results, n, seed, trunk, evaluator, level)
    print(open(f"{results}/{level_name(level)}_judgment.md").read())
