#!/usr/bin/env python
"""Make the shapes benchmark's two CLIPs that the repository ships (weights/shapes_trunk.safetensors and
weights/shapes_evaluator.safetensors) from this package's code: the recipes are `dico_nb.shapes_clip.SHAPES_CLIPS`.
The same seed and thread count give the same weights (about 25 min each on one CPU thread)."""
from pathlib import Path
from fastcore.script import call_parse
from dico_nb.pipeline import ShapesJob, stage_data
from dico_nb.shapes_clip import make_shapes_clip

@call_parse
def main(which:str='trunk,evaluator', # which CLIPs, comma-separated
         out_dir:str='weights',       # where the .safetensors files and their .json recipes go
         data_dir:str='data',         # shapes shards and registry (built at the main job's sizes when missing)
         threads:int=1,               # torch threads (the shipped files were made with 1)
         steps:int=0):                # override the recipes' steps (0: the recipes')
    job = ShapesJob(data_dir=data_dir); stage_data(job)
    for name in which.split(','):
        path = make_shapes_clip(name, Path(out_dir)/f'shapes_{name}.safetensors', job.registry, steps, threads)
        print(f'{name}: {path} ({path.stat().st_size / 2**20:.1f} MiB)')
