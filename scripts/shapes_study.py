#!/usr/bin/env python
"""The shapes study (notebook 12): DiCO and SCST swept over their strength from the same XE model per seed, the ablations, the frontier -> nbs/results/study/.
`--level hard`: the hard level's study -> nbs/results/study_hard/: DiCO (beta 0.2, 1), SCST and new SCST, each with the evaluator's
reward and with the trunk CLIP's (CLIP's blind spots kept), no ablations, read at matched drift.
`--level hard --evaluator hard_evaluator_bound --rewards evaluator`: the same sweep with the binding evaluator as the evaluator
(reward and measure) -> nbs/results/study_hard_bound/, its runs under runs/shapes_hard-hard_evaluator_bound-seed{s}/ (copy
runs/shapes_hard-seed{s}/xe there first to start from the first study's XE models; else they are trained again)."""
import tempfile
from pathlib import Path
from fastcore.script import call_parse, Param
from dico_nb.study import Study, quick_study, run_study
from dico_nb.pipeline import REWARD_KINDS, ShapesJob

@call_parse
def main(seeds:Param("seeds (one XE model each)", int, nargs='+')=[0, 1, 2],
         out:str='nbs/results/study',   # the table, results.json and the figures
         data_dir:str='data',           # shapes shards, registry, feature cache (made when missing)
         runs_dir:str='runs',           # the main job's runs: `{runs_dir}/shapes-seed{s}/xe`, and the study's under `.../study/`
         ft_steps:int=300,              # steps of each fine-tuning run
         workers:int=2,                 # loader workers
         level:str='easy',              # 'easy' (the study as it was) or 'hard'
         lrs:Param("learning rates of every method's sweep", float, nargs='+')=[1e-6, 1e-5, 1e-4],
         evaluator:str='',              # hard level: another of its evaluator CLIPs (`SHAPES_CLIPS`), e.g. hard_evaluator_bound
         rewards:Param("hard level: the rewards of the sweep", str, nargs='+', choices=REWARD_KINDS)=list(REWARD_KINDS),
         threads:int=0,                 # torch threads (0: one per core left besides the loader workers)
         quick:bool=False,              # toy sizes under a temporary folder (or `--root`): a test of the machinery, not a measurement
         root:str=''):                  # with --quick: the folder for data, runs and results
    "Run (or resume) the study and write its results."
    if (level == 'easy' or quick) and (evaluator or tuple(rewards) != REWARD_KINDS):
        raise SystemExit("--evaluator and --rewards are the hard level's: the easy study runs its evaluator's reward only")
    if quick:
        study = quick_study(Path(root or tempfile.mkdtemp(prefix='shapes_study_')))
        if out != 'nbs/results/study': study.out = out
    elif level == 'easy':
        study = Study(job=dict(data_dir=data_dir, runs_dir=runs_dir, ft_steps=ft_steps, workers=workers, threads=threads), seeds=tuple(seeds),
                      dico_lrs=tuple(lrs), scst_lrs=tuple(lrs), out=out)
    else:
        kw = dict(data_dir=data_dir, runs_dir=runs_dir, ft_steps=ft_steps, workers=workers, threads=threads, level=level, evaluator_clip=evaluator)
        other = ShapesJob(**kw).other_evaluator   # named as the runs' folders name it
        default_out = f"nbs/results/study_{level}" + (f"_{other.removeprefix(level + '_evaluator_')}" if other else '')
        study = Study(job=kw, seeds=tuple(seeds), dico_lrs=tuple(lrs), scst_lrs=tuple(lrs), nscst_lrs=tuple(lrs), rewards=tuple(rewards),
                      ablations={}, kls=(0.25, 0.5, 1.0, 2.0, 4.0), out=out if out != 'nbs/results/study' else default_out)
    print(run_study(study).read_text())
