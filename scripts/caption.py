#!/usr/bin/env python
"Caption image files with any checkpoint (ours, or the released DiCO checkpoint directory): the k beams, best first."
from fastcore.script import call_parse, Param, bool_arg
from dico_nb.demo import caption_files, beams_text

@call_parse
def main(images:Param("image files", str, nargs='+'),
         checkpoint:str='runs/shapes-seed0/dico/best', # captioner directory (save_pretrained or the reference's HF layout)
         k:int=5,                                     # beams
         max_len:int=30,                              # longest caption, BOS included
         reward:str=None,                             # reward CLIP (PAC-S format): adds rewards and DiCO's winner (*)
         all_beams:Param("print every beam, not only the best (alone, or followed by true / false)", bool_arg, nargs='?', const=True)=False):
    for path, res in zip(images, caption_files(checkpoint, images, k, max_len, reward)):
        print('\n'.join(beams_text(path, res, all_beams)))
