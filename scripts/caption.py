#!/usr/bin/env python
"Caption image files with any checkpoint (ours, or the released DiCO checkpoint directory): the k beams, best first."
from fastcore.script import call_parse, Param
from dico_nb.demo import caption_files

@call_parse
def main(images:Param("image files", str, nargs='+'),
         checkpoint:str='runs/shapes-seed0/dico/best', # captioner directory (save_pretrained or the reference's HF layout)
         k:int=5,                                     # beams
         max_len:int=30,                              # longest caption, BOS included
         reward:str=None,                             # reward CLIP (PAC-S format): adds rewards and DiCO's winner (*)
         all_beams:bool=False):                       # print every beam, not only the best
    for path, res in zip(images, caption_files(checkpoint, images, k, max_len, reward)):
        beams = res['beams'] if all_beams else res['beams'][:1]
        for j, b in enumerate(beams):
            star = '*' if j == res['winner'] else ' '
            extra = '' if b['reward'] is None else f"  reward {b['reward']:.3f}"
            print(f"{path}\t{star} {b['caption']}\t(log-prob {b['logprob']:.2f}{extra})")
