#!/usr/bin/env python
"Cross-entropy pre-training (stage 1), the reference recipe by default: lr 2.5e-4, 5% warm-up, batch 64 x 8, 10k steps, fp16 on GPU, no clipping, validation every 200 steps on the whole split (5 beams, length penalty 1, max length 30). Every option: --help. Several GPUs or nodes: torchrun --nproc_per_node N scripts/train_xe.py ..."
from dico_nb.train import train, config_cli, TrainConfig

if __name__ == '__main__': train(config_cli(TrainConfig()))
