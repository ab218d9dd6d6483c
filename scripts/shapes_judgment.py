#!/usr/bin/env python
"How well the shapes evaluator judges (see `nbs/04b_shapes_clip.ipynb`): a judgment set of captioners' captions scored by the checker and by every metric, and the evaluator's hackability."
#   python scripts/shapes_judgment.py runs/shapes-seed0/xe_early/best runs/shapes-seed0/xe/best [--level hard]
from fastcore.script import call_parse
from dico_nb.shapes_clip import judgment_study
from dico_nb.shapes import level_name

@call_parse
def main(xe_early:str,                # an early XE checkpoint (a weak captioner)
         xe_late:str,                 # the final XE checkpoint
         data_dir:str='data',         # the main job's data folder (shards and registry)
         results:str='nbs/results',   # where shapes_judgment.json / .md go
         n:int=500,                   # test images
         seed:int=0,
         trunk:str=None,              # trunk CLIP (default: weights/shapes_trunk.safetensors)
         evaluator:str=None,          # evaluator CLIP (default: the level's in weights/)
         level:str='easy'):           # 'easy' or 'hard': the level's test split; results in shapes_judgment.* or shapes_hard_judgment.*
    judgment_study(data_dir, {'XE early': xe_early, 'XE late': xe_late}, results, n, seed, trunk, evaluator, level)
    print(open(f"{results}/{level_name(level)}_judgment.md").read())
