#!/usr/bin/env python
"""Make the shapes benchmark's CLIPs that the repository ships (weights/shapes_{name}.safetensors) from this package's
code: the recipes are `dico_nb.shapes_clip.SHAPES_CLIPS`. The same seed and thread count give the same weights (about
15 to 40 min each on one CPU thread). A recipe with `init` starts from the CLIP it names: list that one first.
    python scripts/train_shapes_clip.py --which hard_evaluator_twins,hard_evaluator_bound"""
from pathlib import Path
from fastcore.script import call_parse
from dico_nb.pipeline import ShapesJob, stage_data
from dico_nb.shapes_clip import make_shapes_clip, SHAPES_CLIPS

@call_parse
def main(which:str='trunk,evaluator', # which CLIPs, comma-separated (names of `SHAPES_CLIPS`)
         out_dir:str='weights',       # where the .safetensors files and their .json recipes go
         data_dir:str='data',         # shapes shards and registry (each recipe's level built at the main job's sizes when missing)
         threads:int=1,               # torch threads (the shipped files were made with 1)
         steps:int=0):                # override the recipes' steps (0: the recipes')
    names = which.split(',')
    unknown = [n for n in names if n not in SHAPES_CLIPS]
    if unknown: raise ValueError(f"unknown shapes CLIPs {unknown}: choose from {', '.join(SHAPES_CLIPS)}")
    for level in dict.fromkeys(SHAPES_CLIPS[n].get('level', 'easy') for n in names): stage_data(ShapesJob(data_dir=data_dir, level=level))
    for name in names:
        path = make_shapes_clip(name, Path(out_dir)/f'shapes_{name}.safetensors', Path(data_dir)/'registry.json', steps, threads)
        print(f'{name}: {path} ({path.stat().st_size / 2**20:.1f} MiB)')
