#!/usr/bin/env python
"The whole method on the shapes benchmark (data, CLIPs, XE, DiCO or SCST, evaluation, report); every stage resumable."
from fastcore.script import call_parse
from dico_nb.pipeline import ShapesJob, run_shapes

@call_parse
def main(baseline:str='dico', # 'dico', or 'scst' for the SCST baseline with the same reward
         seed:int=0,          # data order, initialisation, dropout
         name:str='',         # outputs go to runs/{name}-seed{seed}/ (default: shapes, shapes_hard, ..._trunk_reward)
         level:str='easy',    # 'easy' or 'hard' (up to six objects, counts, distractors)
         reward:str='evaluator', # 'evaluator' (the level's evaluator CLIP) or 'trunk' (the trunk CLIP: CLIP's blind spots kept)
         evaluator_clip:str='', # another of the level's evaluator CLIPs, e.g. hard_evaluator_bound (the one that binds colours to shapes)
         data_dir:str='data', # shapes shards, registry and the two CLIPs
         runs_dir:str='runs', # training runs and reports
         clips:str='shipped', # 'shipped' (weights/) or 'train' (retrain both CLIPs by the same recipes)
         workers:int=2):      # loader workers
    run_shapes(ShapesJob(name=name, baseline=baseline, seed=seed, data_dir=data_dir, runs_dir=runs_dir, clips=clips, workers=workers,
                         level=level, reward=reward, evaluator_clip=evaluator_clip))
