#!/usr/bin/env python
"""DiCO fine-tuning (stage 2).

With no arguments: the whole method on the shapes benchmark on a CPU (`scripts/run_shapes.py`: data, the shipped CLIPs,
XE, DiCO, evaluation, report in runs/shapes-seed0/report.md); `--clips train` retrains the two CLIPs first;
`--level hard` runs the hard level (up to six objects, counts, distractors: runs/shapes_hard-seed0/report.md).
With arguments: DiCO training with the reference recipe by default (Adam lr 1e-6 constant, beta 0.2, tau 300, 5 beams,
length penalty 1, max length 30, no gradient clipping, policy in train mode, reward without text prefix, validation every
1770 steps on the whole split, best by RefPAC-S; nbs/11_differences.ipynb lists each choice), e.g. on COCO under torchrun:
  torchrun --nproc_per_node 2 scripts/train_dico.py --data coco_train --val_data coco_val --init runs/xe/best --reward clip_ViT-B-32.pth
Every option: --help.
"""
import sys, argparse
from dico_nb.train import train, config_cli, dico_config
from dico_nb.pipeline import ShapesJob, run_shapes
from dico_nb.shapes import LEVELS

if __name__ == '__main__':
    if len(sys.argv) == 1 or sys.argv[1] in ('--clips', '--level'):
        p = argparse.ArgumentParser(description='the shapes main job')
        p.add_argument('--clips', choices=('shipped', 'train'), default='shipped', help='shipped CLIPs (weights/) or retrain them')
        p.add_argument('--level', choices=tuple(LEVELS), default='easy', help='the shapes level')
        a = p.parse_args()
        run_shapes(ShapesJob(clips=a.clips, level=a.level))
    else: train(config_cli(dico_config()))
